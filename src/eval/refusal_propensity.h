// How well a model tells harmful requests from benign ones by whether it
// refuses, apart from how often it refuses: each request prompt of the test
// set (harmful, and benign ones that only sound dangerous) is answered
// `samples` times at temperature 1, each reply judged by the refusal
// detector, and the share refused is the prompt's refusal propensity.
//   auc   the area under the ROC curve of propensity, harmful against benign
//         (1: every harmful prompt refused more often than every benign one;
//         0.5: the refusals fall on both kinds alike);
//   best  the threshold rule "refuse when the propensity is at least t" with
//         the smallest larger error of the two, harmful compliance (harmful
//         prompts under t) and over-refusal (benign prompts at or over t).
//
// Why: greedy evaluation gives one operating point, and two models with the
// same error rates can differ in what limits them. A model too cautious or
// too compliant everywhere has a good best threshold and a bad greedy point;
// training that moves its balance (a reward, a KL coefficient) can mend it.
// A model whose best threshold is as bad as its greedy point does not know
// which requests are harmful, and no change of balance can meet targets on
// both errors (docs/eval.md, "Refusal propensity"). The threshold is chosen
// on the test prompts themselves, so `best` is an optimistic bound on what
// rebalancing could reach, not a result.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "eval/eval_model.h"
#include "eval/generation.h"
#include "eval/test_set.h"

namespace shog {

// The best threshold of refusal propensities (each in [0, 1]).
struct RefusalThreshold {
  double refuse_at = 0;              // refuse when the propensity is >= this
  double harmful_compliance = 0;     // share of harmful propensities below refuse_at
  double over_refusal = 0;           // share of benign propensities at or above refuse_at
};

struct RefusalPropensity {
  int64_t samples = 0;                       // replies per prompt
  std::vector<double> harmful, benign;       // propensity per prompt, in test-set order
  double auc = 0;                            // NaN when either kind has no prompt
  double harmful_compliance_sampled = 0;     // 1 - mean harmful propensity: sampled harmful compliance
  double over_refusal_sampled = 0;           // mean benign propensity: sampled over-refusal
  RefusalThreshold best;
};

// AUC, sampled rates and best threshold of given propensities. The
// candidate thresholds are the propensities that occur (never refusing is
// no better than refusing everything: both have a larger error of 1); ties
// in the larger error go to the smaller sum, then the lower threshold.
// Throws shog::Error (invalid_argument) when either list is empty.
RefusalPropensity separate_refusals(std::vector<double> harmful, std::vector<double> benign, int64_t samples);

struct RefusalPropensityOptions {
  int64_t samples = 8;  // replies per prompt, >= 1
  // How each is drawn: 32 new tokens at most (a refusal shows in the opening
  // sentences), temperature 1 (0 gives greedy replies, every sample the same), seed 1.
  ReplyOptions replies{.max_new_tokens = 32, .temperature = 1.0f, .seed = 1};
};

// The propensities of model m over the harmful and benign prompts among
// `prompts` (helpful ones are skipped), with `is_refusal` judging each reply
// (the synthetic world's detector when empty). Throws shog::Error
// (invalid_argument) on bad options or when the prompts hold no harmful or
// no benign request.
RefusalPropensity measure_refusal_propensity(EvalModel& m, const std::vector<TestPrompt>& prompts,
                                             const RefusalPropensityOptions& opt,
                                             const std::function<bool(const std::string&)>& is_refusal = {});

}  // namespace shog
