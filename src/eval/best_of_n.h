// Best-of-N with a reward model: for every test prompt the policy samples N
// replies, the reward model scores each (prompt, reply) conversation, and the
// highest-scored reply is the answer (ties: the earliest sample). The chosen
// replies are judged like greedy ones (reply_metrics.h).
//
// Why: a reward model reads the whole request and the whole reply, so it can
// judge a held-out request better than the policy it trained can act on it
// (docs/demo.md: pairwise accuracy 0.88 on the test split, against a refusal
// AUC of about 0.8 for the aligned policy). Best-of-N puts that judgement to
// work at inference, at N times the generation and one reward-model pass per
// sample. It is the selection half of rejection sampling (InstructGPT's
// baselines, Llama 2's rejection-sampling fine-tuning), and its KL from the
// policy is at most log N - (N - 1) / N nats.
//
// Beside the chosen replies it reports the oracle selection: a correct sample
// wherever the N hold one. That separates the two ways best-of-N fails: no
// good sample drawn (the policy's fault; the oracle fails too) and a bad
// sample scored highest (the reward model's fault).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/records.h"
#include "eval/eval_model.h"
#include "eval/generation.h"
#include "eval/reply_metrics.h"
#include "eval/test_set.h"

namespace shog {

struct BestOfNOptions {
  int64_t n = 8;  // samples per prompt, >= 1
  // How each is drawn: temperature 1 (0 gives N copies of the greedy reply), seed 1.
  ReplyOptions replies{.temperature = 1.0f, .seed = 1};
};

// N samples of every prompt, prompt-major: sample k of prompt i at i * n + k.
// Sample k of prompt i is drawn with seed + i * n + k, so the samples do not
// depend on the batching. Throws shog::Error (invalid_argument) when n < 1,
// and what generate_replies throws.
std::vector<ModelReply> sample_candidates(EvalModel& m, const std::vector<TestPrompt>& prompts,
                                          const BestOfNOptions& opt);

// Scores a batch of conversations (prompt + reply), one per conversation;
// NaN marks one it could not score (too long for its context).
using ConversationScorer = std::function<std::vector<double>(const std::vector<Messages>&)>;

struct BestOfN {
  int64_t n = 0;
  std::vector<int64_t> chosen;        // per prompt: the chosen sample, 0..n-1
  std::vector<double> chosen_score;   // per prompt: its score; NaN when no sample could be scored (sample 0 chosen)
  std::vector<ModelReply> samples;    // every sample, prompt-major (sample k of prompt i at i * n + k)
  std::vector<double> sample_scores;  // their scores (NaN: not scored)
  std::vector<ReplyVerdict> sample_verdicts;  // their verdicts
  ReplyMetrics metrics;               // of the chosen replies
  ReplyMetrics oracle;                // of a correct sample wherever one was drawn (else, for a request to
                                      // answer, one not refused; else sample 0)
  double score_mean = 0;              // mean chosen score over the finite ones; NaN when none
  double sample_score_mean = 0;       // mean score of all finite samples: what choosing adds over one draw

  // Prompt i's chosen reply and its verdict.
  const ModelReply& reply(size_t i) const { return samples[i * size_t(n) + size_t(chosen[i])]; }
  const ReplyVerdict& verdict(size_t i) const { return sample_verdicts[i * size_t(n) + size_t(chosen[i])]; }
};

// The sample with the highest finite score in each run of n (ties: the
// earliest); -1 where none is finite. Throws shog::Error (invalid_argument)
// when the scores do not split into runs of n.
std::vector<int64_t> choose_highest(const std::vector<double>& scores, int64_t n);

// Best-of-N over candidates from sample_candidates: every sample scored by
// `score` in one call, the highest chosen, and the chosen and oracle replies
// judged. Throws shog::Error (invalid_argument) when the candidates are not
// n per prompt or `score` returns the wrong count, and what judge_reply
// throws.
BestOfN choose_best_of_n(const std::vector<TestPrompt>& prompts, const std::vector<ModelReply>& candidates,
                         int64_t n, const ConversationScorer& score);

}  // namespace shog
