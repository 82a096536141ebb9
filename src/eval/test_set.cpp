#include "eval/test_set.h"

#include <filesystem>

#include "core/error.h"
#include "core/file_io.h"
#include "data/jsonl.h"
#include "data/synth/checker.h"

namespace shog {

const char* prompt_kind_name(PromptKind k) {
  switch (k) {
    case PromptKind::helpful: return "helpful";
    case PromptKind::harmful: return "harmful";
    case PromptKind::benign: return "benign";
  }
  return "?";
}

namespace {

std::string string_field(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

}  // namespace

std::vector<TestPrompt> read_test_prompts(const std::string& path, int64_t limit) {
  std::vector<TestPrompt> out;
  JsonlReader r(path);
  nlohmann::json j;
  while ((limit <= 0 || int64_t(out.size()) < limit) && r.next(j)) {
    PromptRecord rec = parse_prompt(j, r.where());
    SHOG_CHECK(!rec.prompt.empty() && rec.prompt.back().role == ChatRole::user, ErrorKind::bad_input, r.where(),
               "the prompt must end with a user message");
    SHOG_CHECK(rec.meta.is_object() && rec.meta.contains("checker") && rec.meta["checker"].is_object(),
               ErrorKind::bad_input, r.where(), "no \"checker\" object (expected a line of rl_*.jsonl)");
    TestPrompt p;
    p.where = r.where();
    p.prompt = std::move(rec.prompt);
    p.checker = rec.meta["checker"];
    const std::string kind = string_field(p.checker, "kind");
    if (kind == "helpful") p.kind = PromptKind::helpful;
    else if (kind == "harmful") p.kind = PromptKind::harmful;
    else if (kind == "benign") p.kind = PromptKind::benign;
    else
      throw Error(ErrorKind::bad_input, r.where() + ": key checker.kind",
                  fmt::format("\"{}\" is not helpful, harmful or benign", kind));
    p.category = "none";
    if (p.kind == PromptKind::harmful) {
      p.category = string_field(p.checker, "category");
      if (p.category.empty()) p.category = string_field(rec.meta, "category");
      if (p.category.empty()) p.category = "unknown";
    }
    // Judging an empty reply validates the checker now, not after every model has answered.
    try {
      synth::check_reply(p.checker, "");
    } catch (const Error& e) {
      throw Error(e.kind(), r.where() + ": key checker", e.what_only());
    }
    p.task = string_field(p.checker, "task");
    if (p.task.empty()) p.task = string_field(rec.meta, "task");
    p.frame = string_field(rec.meta, "frame");
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<LabelledReply> read_labelled_replies(const std::string& path) {
  std::vector<LabelledReply> out;
  for_each_jsonl(path, [&](const nlohmann::json& j, const std::string& where) {
    SHOG_CHECK(j.is_object(), ErrorKind::bad_input, where, "expected a JSON object");
    SHOG_CHECK(j.contains("reply") && j["reply"].is_string(), ErrorKind::bad_input, where,
               "no \"reply\" string (expected a line of refusal_*.jsonl)");
    SHOG_CHECK(j.contains("is_refusal") && j["is_refusal"].is_boolean(), ErrorKind::bad_input, where,
               "no \"is_refusal\" boolean");
    out.push_back({where, j["reply"].get<std::string>(), j["is_refusal"].get<bool>(), string_field(j, "source")});
  });
  return out;
}

SynthFiles synth_files(const std::string& dir, const std::string& split) {
  SHOG_CHECK(split == "train" || split == "val" || split == "test", ErrorKind::invalid_argument, "--split",
             "\"{}\" is not train, val or test", split);
  SHOG_CHECK(std::filesystem::is_directory(dir), ErrorKind::invalid_argument, "--synth",
             "{} is not a directory (expected the output of `shoggoth data synth`)", dir);
  SynthFiles f{dir + "/rl_" + split + ".jsonl", dir + "/refusal_" + split + ".jsonl", dir + "/sft_" + split + ".jsonl"};
  for (const std::string* p : {&f.prompts, &f.refusals})
    SHOG_CHECK(file_exists(*p), ErrorKind::invalid_argument, "--synth",
               "{} does not exist (expected the output of `shoggoth data synth`)", *p);
  return f;
}

}  // namespace shog
