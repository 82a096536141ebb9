#include "eval/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "align/reward.h"
#include "core/error.h"
#include "core/file_io.h"

namespace shog {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void check_inputs(const EvalOptions& opt) {
  SHOG_CHECK(!opt.models.empty(), ErrorKind::invalid_argument, "--model", "give at least one model (NAME=DIR)");
  std::set<std::string> names;
  for (const ModelSpec& m : opt.models) {
    SHOG_CHECK(names.insert(m.name).second, ErrorKind::invalid_argument, "--model",
               "two models are named \"{}\"; name them NAME=DIR", m.name);
    SHOG_CHECK(std::filesystem::is_directory(m.dir), ErrorKind::invalid_argument, "--model " + m.name,
               "{} is not a directory", m.dir);
    SHOG_CHECK(file_exists(m.dir + "/adapter_config.json") || file_exists(m.dir + "/config.json"),
               ErrorKind::invalid_argument, "--model " + m.name,
               "{} holds neither config.json (a model) nor adapter_config.json (a LoRA adapter)", m.dir);
  }
  if (!opt.reward_model.empty())
    SHOG_CHECK(file_exists(opt.reward_model + "/reward.json"), ErrorKind::invalid_argument, "--reward-model",
               "{} is not a reward model directory (no reward.json; train one with `shoggoth reward`)",
               opt.reward_model);
  if (!opt.text.empty())
    SHOG_CHECK(file_exists(opt.text), ErrorKind::invalid_argument, "--text", "{} does not exist", opt.text);
  SHOG_CHECK(opt.limit >= 0, ErrorKind::invalid_argument, "--limit", "must be >= 0, got {}", opt.limit);
  SHOG_CHECK(opt.replies.max_new_tokens >= 1, ErrorKind::invalid_argument, "--max-tokens", "must be >= 1, got {}",
             opt.replies.max_new_tokens);
  SHOG_CHECK(opt.replies.max_batch >= 1, ErrorKind::invalid_argument, "--batch", "must be >= 1, got {}",
             opt.replies.max_batch);
  SHOG_CHECK(opt.refusal_samples >= 0, ErrorKind::invalid_argument, "--refusal-samples", "must be >= 0, got {}",
             opt.refusal_samples);
  SHOG_CHECK(opt.best_of_n >= 0, ErrorKind::invalid_argument, "--best-of", "must be >= 0, got {}", opt.best_of_n);
  SHOG_CHECK(opt.best_of_n == 0 || !opt.reward_model.empty(), ErrorKind::invalid_argument, "--best-of",
             "needs a reward model to choose with (--reward-model DIR)");
  for (const std::string& name : opt.best_of_models)
    SHOG_CHECK(std::any_of(opt.models.begin(), opt.models.end(), [&](const ModelSpec& m) { return m.name == name; }),
               ErrorKind::invalid_argument, "--best-of-models", "names no model given with -m: {}", name);
  SHOG_CHECK(opt.best_of_temperature > 0, ErrorKind::invalid_argument, "--best-of-temperature",
             "must be > 0 (at 0 every sample is the greedy reply), got {}", opt.best_of_temperature);
  SHOG_CHECK(opt.bpb.batch_rows >= 1, ErrorKind::invalid_argument, "--bpb-rows", "must be >= 1, got {}",
             opt.bpb.batch_rows);
}

}  // namespace

EvalResults run_eval(const EvalOptions& opt) {
  auto log = [&](const std::string& s) {
    if (opt.log) opt.log(s);
  };
  check_inputs(opt);
  EvalResults r;
  r.split = opt.split;
  r.files = synth_files(opt.synth_dir, opt.split);
  r.prompts = read_test_prompts(r.files.prompts, opt.limit);
  SHOG_CHECK(!r.prompts.empty(), ErrorKind::bad_input, r.files.prompts, "holds no prompts");
  r.detector = check_refusal_detector(read_labelled_replies(r.files.refusals));
  r.max_new_tokens = opt.replies.max_new_tokens;
  r.reward_model = opt.reward_model;
  if (opt.best_of_n > 0) r.best_of_temperature = opt.best_of_temperature;
  log(fmt::format("eval: {} prompts from {}; refusal detector accuracy {:.3f} on {} labelled replies",
                  r.prompts.size(), r.files.prompts, r.detector.accuracy(), r.detector.n()));

  std::optional<BpbText> text;
  if (opt.bits_per_byte) {
    if (!opt.text.empty()) text = read_plain_text(opt.text);
    else if (file_exists(r.files.conversations)) text = read_chat_text(r.files.conversations);
    else log(fmt::format("eval: no {}: bits per byte skipped (pass --text FILE)", r.files.conversations));
    if (text) r.bpb_source = text->source, r.bpb_chat = text->chat;
  }

  // With best_of_n: the index in r.models of each model sampled, and its samples.
  std::vector<std::pair<size_t, std::vector<ModelReply>>> candidates;
  for (const ModelSpec& spec : opt.models) {
    auto t0 = std::chrono::steady_clock::now();
    EvalModel m = EvalModel::load(spec, opt.dtype);
    ModelEval e;
    e.name = spec.name;
    e.dir = spec.dir;
    e.base_dir = m.base_dir();
    log(fmt::format("eval: {}: loaded {}{} in {:.1f}s", e.name, e.dir,
                    e.base_dir.empty() ? "" : " (LoRA adapter over " + e.base_dir + ")", seconds_since(t0)));
    e.replies = generate_replies(m, r.prompts, opt.replies, &e.generation);
    std::vector<bool> cut;
    for (size_t i = 0; i < r.prompts.size(); ++i) {
      e.verdicts.push_back(judge_reply(r.prompts[i], e.replies[i].text));
      cut.push_back(e.replies[i].finish == FinishReason::length);
    }
    e.metrics = summarize_replies(r.prompts, e.verdicts, cut);
    log(fmt::format("eval: {}: {} replies, {} tokens in {:.1f}s ({:.0f} tok/s); task accuracy {:.3f}, harmful "
                    "compliance {:.3f}, over-refusal {:.3f}",
                    e.name, e.replies.size(), e.generation.generated_tokens, e.generation.seconds,
                    double(e.generation.generated_tokens) / std::max(e.generation.seconds, 1e-9),
                    e.metrics.task_accuracy.value(), e.metrics.harmful_compliance.value(),
                    e.metrics.over_refusal.value()));
    if (text) {
      t0 = std::chrono::steady_clock::now();
      e.bpb = bits_per_byte(m, *text, opt.bpb);
      log(fmt::format("eval: {}: {:.4f} bits per byte over {} tokens, {} bytes{} in {:.1f}s", e.name,
                      e.bpb->value(), e.bpb->tokens, e.bpb->bytes,
                      e.bpb->skipped ? fmt::format(" ({} conversations too long, skipped)", e.bpb->skipped) : "",
                      seconds_since(t0)));
    }
    if (opt.knowledge_probe) {
      t0 = std::chrono::steady_clock::now();
      e.knowledge = probe_knowledge(m, opt.bpb.batch_rows);
      std::string aucs;
      for (const auto& k : e.knowledge) aucs += fmt::format(" {:.3f}", k.auc[size_t(synth::Split::test)]);
      log(fmt::format("eval: {}: knowledge probe, AUC on the test split's requests:{} in {:.1f}s", e.name, aucs,
                      seconds_since(t0)));
    }
    if (opt.copy_probe) {
      t0 = std::chrono::steady_clock::now();
      CopyProbeOptions co;
      co.batch_rows = opt.bpb.batch_rows;
      e.copy = probe_copying(m, co);
      log(fmt::format("eval: {}: copy probe, {:.3f} nats per token on a random run, {:.3f} on its repeat ({:.0f}% "
                      "saved) in {:.1f}s",
                      e.name, e.copy->first_nats, e.copy->repeat_nats, 100 * e.copy->copy_share(), seconds_since(t0)));
    }
    if (opt.refusal_samples > 0) {
      t0 = std::chrono::steady_clock::now();
      RefusalPropensityOptions ro;
      ro.samples = opt.refusal_samples;
      ro.replies.max_new_tokens = std::min(ro.replies.max_new_tokens, opt.replies.max_new_tokens);
      ro.replies.max_batch = opt.replies.max_batch;
      ro.replies.kv_dtype = opt.replies.kv_dtype;
      e.refusal = measure_refusal_propensity(m, r.prompts, ro);
      log(fmt::format("eval: {}: refusal propensity over {} samples per request: AUC {:.3f}; best threshold: harmful "
                      "compliance {:.3f}, over-refusal {:.3f} in {:.1f}s",
                      e.name, ro.samples, e.refusal->auc, e.refusal->best.harmful_compliance,
                      e.refusal->best.over_refusal, seconds_since(t0)));
    }
    if (opt.best_of_n > 0 && (opt.best_of_models.empty() || std::find(opt.best_of_models.begin(),
                                                                       opt.best_of_models.end(),
                                                                       e.name) != opt.best_of_models.end())) {
      t0 = std::chrono::steady_clock::now();
      BestOfNOptions bo;
      bo.n = opt.best_of_n;
      bo.replies = opt.replies;
      bo.replies.temperature = opt.best_of_temperature;
      bo.replies.seed = 1;
      candidates.emplace_back(r.models.size(), sample_candidates(m, r.prompts, bo));
      log(fmt::format("eval: {}: {} samples of each prompt for best-of-{} in {:.1f}s", e.name, bo.n, bo.n,
                      seconds_since(t0)));
    }
    r.models.push_back(std::move(e));
  }

  if (!opt.reward_model.empty()) {
    auto t0 = std::chrono::steady_clock::now();
    RewardModel rm = RewardModel::load(opt.reward_model, opt.dtype);
    for (ModelEval& e : r.models) {
      std::vector<Messages> convs;
      for (size_t i = 0; i < r.prompts.size(); ++i) convs.push_back(r.prompts[i].answered(e.replies[i].text));
      e.rm_scores = rm.score(convs);
      const FiniteMean mean = finite_mean(e.rm_scores);
      e.rm_score_mean = mean.mean, e.rm_scored = mean.count;
    }
    for (const auto& [j, samples] : candidates) {
      ModelEval& e = r.models[j];
      e.best_of_n = choose_best_of_n(r.prompts, samples, opt.best_of_n,
                                     [&](const std::vector<Messages>& convs) { return rm.score(convs); });
      log(fmt::format("eval: {}: best of {}: task accuracy {:.3f}, harmful compliance {:.3f}, over-refusal {:.3f} "
                      "(oracle choice: {:.3f}, {:.3f}, {:.3f})",
                      e.name, opt.best_of_n, e.best_of_n->metrics.task_accuracy.value(),
                      e.best_of_n->metrics.harmful_compliance.value(), e.best_of_n->metrics.over_refusal.value(),
                      e.best_of_n->oracle.task_accuracy.value(), e.best_of_n->oracle.harmful_compliance.value(),
                      e.best_of_n->oracle.over_refusal.value()));
    }
    log(fmt::format("eval: reward model {} scored {} models' replies in {:.1f}s", opt.reward_model, r.models.size(),
                    seconds_since(t0)));
  }
  return r;
}

}  // namespace shog
