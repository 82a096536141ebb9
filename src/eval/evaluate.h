// `shoggoth eval` as a library call: models compared side by side on one
// split of a synthetic world. In the order it runs:
//   1. check the inputs (synth files, model and reward-model directories),
//      before any model is loaded, so a typo fails in a second;
//   2. the refusal detector's accuracy on the labelled replies (refusal_check.h);
//   3. per model, one at a time (only one is in memory): load it (full or
//      LoRA, eval_model.h), reply greedily to every test prompt
//      (generation.h), judge each reply (reply_metrics.h), measure bits per
//      byte (bits_per_byte.h), free it;
//   3b. with knowledge_probe: per model, the knowledge probe (knowledge_probe.h);
//   3c. with copy_probe: per model, whether it copies from context (copy_probe.h);
//   3d. with refusal_samples > 0: per model, its refusal propensity over the
//       request prompts, sampled (refusal_propensity.h);
//   3e. with best_of_n > 0: per model, N samples of every prompt (best_of_n.h);
//   4. with a reward model: score every model's (prompt, reply)
//      conversations with it (align/reward.h), and with best_of_n, every
//      sample, choosing the highest-scored per prompt.
// Deterministic given the models, the options and the thread count: greedy
// decoding (seeded sampling for the refusal propensity), prompts in file
// order, and no clock in the results.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "eval/best_of_n.h"
#include "eval/bits_per_byte.h"
#include "eval/copy_probe.h"
#include "eval/eval_model.h"
#include "eval/generation.h"
#include "eval/knowledge_probe.h"
#include "eval/refusal_check.h"
#include "eval/refusal_propensity.h"
#include "eval/reply_metrics.h"
#include "eval/test_set.h"

namespace shog {

struct EvalOptions {
  std::vector<ModelSpec> models;  // columns of the report, in this order
  std::string synth_dir;
  std::string split = "test";
  std::string reward_model;       // optional: a `shoggoth reward` output directory
  std::string text;               // plain text for bits per byte; "": the split's sft conversations
  bool bits_per_byte = true;
  bool knowledge_probe = false;   // run the knowledge probe on every model
  bool copy_probe = false;        // run the copy probe on every model
  int64_t refusal_samples = 0;    // > 0: sample each request prompt this often for its refusal propensity
  int64_t best_of_n = 0;          // > 0 (needs reward_model): also answer each prompt with the best of this many samples
  float best_of_temperature = 1;  // the samples' temperature
  std::vector<std::string> best_of_models;  // names of the models to sample for best-of-N; empty: every model
  int64_t limit = 0;              // first N prompts; 0: all
  DType dtype = DType::f32;       // compute dtype of the models and the reward model
  ReplyOptions replies;
  BpbOptions bpb;
  std::function<void(const std::string&)> log;  // progress lines (with timings); may be empty
};

struct ModelEval {
  std::string name, dir, base_dir;       // base_dir: the base of a LoRA adapter, else ""
  std::vector<ModelReply> replies;       // one per prompt
  std::vector<ReplyVerdict> verdicts;
  ReplyMetrics metrics;
  std::optional<BitsPerByte> bpb;
  std::vector<KnowledgeProbeResult> knowledge;  // with knowledge_probe, else empty
  std::optional<CopyProbeResult> copy;   // with copy_probe
  std::optional<RefusalPropensity> refusal;  // with refusal_samples > 0
  std::optional<BestOfN> best_of_n;      // with best_of_n > 0
  std::vector<double> rm_scores;         // one per prompt with a reward model (NaN: too long), else empty
  double rm_score_mean = 0;              // over the finite scores; NaN when none
  int64_t rm_scored = 0;
  GenerationStats generation;            // timings: logged, never written to the report
};

struct EvalResults {
  SynthFiles files;
  std::string split;
  std::vector<TestPrompt> prompts;
  DetectorAccuracy detector;
  std::string bpb_source;                // "" when bits per byte was not measured
  bool bpb_chat = false;
  std::string reward_model;
  int64_t max_new_tokens = 0;
  float best_of_temperature = 0;         // with best-of-N: its samples' temperature
  std::vector<ModelEval> models;
};

// Throws shog::Error naming the flag or file on bad input.
EvalResults run_eval(const EvalOptions& opt);

}  // namespace shog
