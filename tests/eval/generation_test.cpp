// Greedy replies to test prompts: repeatable, independent of how many are
// decoded together, stopped at <|end|> or the token limit, and a LoRA model
// answers with its adapter. Sampled replies: fixed by the seed, whatever the
// batching, and a prompt queued twice is drawn twice.
#include "eval/generation.h"

#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "eval_fixture.h"
#include "infer/engine.h"

namespace shog {
namespace {

std::vector<TestPrompt> prompts() {
  std::vector<TestPrompt> ps;
  const char* texts[] = {"the quick brown fox", "hello world", "tokenizer merges pairs", "café naïve", "1234",
                         "don't stop", "lazy dog jumps"};
  int line = 1;
  for (const char* t : texts) {
    TestPrompt p;
    p.where = "p.jsonl:" + std::to_string(line++);
    p.prompt = {{ChatRole::user, t}};
    p.kind = PromptKind::helpful;
    ps.push_back(p);
  }
  return ps;
}

std::vector<std::string> texts(const std::vector<ModelReply>& r) {
  std::vector<std::string> t;
  for (auto& x : r) t.push_back(x.text);
  return t;
}

TEST(Generation, RepliesAreGreedyAndIndependentOfBatching) {
  testing::TempDir d;
  evaltest::write_model_dir(d.file("m"), 2);
  EvalModel m = EvalModel::load({"m", d.file("m")}, DType::f32);
  auto ps = prompts();
  ReplyOptions one{12, 1, DType::f32}, many{12, 8, DType::f32};
  auto a = generate_replies(m, ps, one), b = generate_replies(m, ps, many);
  ASSERT_EQ(a.size(), ps.size());
  EXPECT_EQ(texts(a), texts(b));
  // The first reply equals a plain greedy engine run of the rendered prompt.
  SamplingParams sp;
  sp.temperature = 0;
  sp.max_new_tokens = 12;
  sp.stop_tokens = {m.chat().end_id()};
  if (auto eos = m.tokenizer().special_id("<|eos|>")) sp.stop_tokens.push_back(*eos);
  Engine eng(m.model(), &m.tokenizer(), {});
  GenerationRequest req;
  req.prompt = m.chat().render(ps[0].prompt, true).ids;
  req.params = sp;
  auto id = eng.add(std::move(req));
  eng.run_until_done();
  EXPECT_EQ(eng.take_result(id).text, a[0].text);
  for (auto& r : a) {
    EXPECT_LE(r.new_tokens, 12);
    EXPECT_TRUE(r.finish == FinishReason::length || r.finish == FinishReason::stop_token);
    if (r.finish == FinishReason::length) {
      EXPECT_EQ(r.new_tokens, 12);
    }
  }
}

TEST(Generation, SampledRepliesDependOnTheSeedNotTheBatching) {
  testing::TempDir d;
  evaltest::write_model_dir(d.file("m"), 2, 0.3f);
  EvalModel m = EvalModel::load({"m", d.file("m")}, DType::f32);
  auto ps = prompts();
  ReplyOptions one{12, 1, DType::f32, 1.0f, 7}, many{12, 8, DType::f32, 1.0f, 7}, other{12, 8, DType::f32, 1.0f, 8};
  auto a = texts(generate_replies(m, ps, one));
  EXPECT_EQ(a, texts(generate_replies(m, ps, many)));
  EXPECT_NE(a, texts(generate_replies(m, ps, other)));
  EXPECT_NE(a, texts(generate_replies(m, ps, {12, 8, DType::f32})));  // greedy
  // The same prompt twice gets two seeds, so two draws.
  std::vector<TestPrompt> twice(6, ps[0]);
  auto t = texts(generate_replies(m, twice, many));
  EXPECT_GT(std::set<std::string>(t.begin(), t.end()).size(), 1u);
  ReplyOptions negative = many;
  negative.temperature = -1;
  EXPECT_THROW(generate_replies(m, ps, negative), Error);
}

TEST(Generation, ALoraModelAnswersWithItsAdapter) {
  testing::TempDir d;
  evaltest::write_model_dir(d.file("base"), 2);
  evaltest::write_adapter_dir(d.file("zero"), d.file("base"), false);
  evaltest::write_adapter_dir(d.file("moved"), d.file("base"), true);
  auto ps = prompts();
  ReplyOptions o{10, 4, DType::f32};
  auto run = [&](const char* name) {
    EvalModel m = EvalModel::load({name, d.file(name)}, DType::f32);
    return texts(generate_replies(m, ps, o));
  };
  auto base = run("base");
  EXPECT_EQ(run("zero"), base);
  EXPECT_NE(run("moved"), base);
}

TEST(Generation, APromptThatFillsTheContextNamesItsLine) {
  testing::TempDir d;
  evaltest::write_model_dir(d.file("m"), 2);
  EvalModel m = EvalModel::load({"m", d.file("m")}, DType::f32);
  auto ps = prompts();
  std::string long_text;
  for (int i = 0; i < 80; ++i) long_text += "quick ";
  ps[3].prompt = {{ChatRole::user, long_text}};
  try {
    generate_replies(m, ps, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "p.jsonl:4");
  }
  EXPECT_THROW(generate_replies(m, prompts(), {0, 4, DType::f32}), Error);
}

}  // namespace
}  // namespace shog
