// Rollouts for the RL trainers (grpo, ppo): prompts drawn in reshuffled
// passes, replies sampled from the current policy by the batched inference
// engine (a LoRA policy's adapter riding on each request), and the packed
// passes over prompt + reply that give per-token log-probs (old, reference)
// or, through a callback, anything else read off the same forward pass.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "align/finetune_model.h"
#include "align/packing.h"
#include "align/train_settings.h"
#include "core/random.h"
#include "data/records.h"

namespace shog {

struct Rollout {
  size_t prompt = 0;        // index into the prompt set
  TokenizedSample sample;   // prompt + reply; mask 1 on the reply
  int64_t prompt_tokens = 0;
  std::string text;         // the reply's text (the end marker excluded)
  bool truncated = false;   // stopped by the length limit, not by the end marker
  // Per packed position (ids.size() - 1 of them: position j predicts
  // ids[j + 1]); the reply's tokens are positions prompt_tokens - 1 onwards.
  std::vector<float> old_logp, ref_logp;
  int64_t reply_tokens() const { return int64_t(sample.ids.size()) - prompt_tokens; }
  int64_t reply_pos(int64_t t) const { return prompt_tokens - 1 + t; }
};

// Steps of an RL run: train.steps, or else train.epochs passes over the
// prompts at prompts_per_step a step (at least one).
int64_t rollout_steps(const AlignTrainSettings& t, size_t n_prompts, int64_t prompts_per_step);

// The mean of the first and of the last min(k, n) per-step values: where a
// run started and ended, less noisy than one step's few prompts.
struct StartEnd {
  double start = 0, end = 0;
};
StartEnd start_and_end_means(std::span<const double> per_step, size_t k = 5);

// Prompt indices, in a new seeded shuffle on every pass over the set.
class PromptCycle {
 public:
  PromptCycle(size_t n_prompts, uint64_t seed);
  std::vector<size_t> next(int64_t count);

 private:
  size_t n_;
  Rng rng_;
  std::vector<size_t> order_;
  size_t at_ = 0;
};

struct RolloutSampling {
  int64_t per_prompt = 1;    // replies per prompt (GRPO's group)
  int64_t max_new_tokens = 48;
  double temperature = 1.0;
  int64_t seq_len = 256;     // prompt + reply must fit (train.seq_len)
  uint64_t seed = 0;         // request i samples with seed + i
};

// Samples per_prompt replies to each chosen prompt in one engine run, with
// the policy's current weights (eval mode), from its distribution over the
// whole vocabulary (ids the tokenizer cannot decode included: they add no
// text). Rollouts come out prompt by prompt, in the order of `chosen`.
std::vector<Rollout> sample_rollouts(FinetuneModel& fm, const std::vector<PromptRecord>& prompts,
                                     std::span<const size_t> chosen, const RolloutSampling& s);

// Packs the rollouts `which` (indices into rs) into micro-batches of at most
// max_rows rows of T (next_token mode) and calls fn on each with the
// indices it holds, in the batch's sample order.
using PackedRolloutsFn = std::function<void(const PackedBatch&, std::span<const size_t>)>;
void for_each_packed(const std::vector<Rollout>& rs, std::span<const size_t> which, int64_t T, int64_t max_rows,
                     int32_t pad, const PackedRolloutsFn& fn);
// All rollouts, in order.
void for_each_packed(const std::vector<Rollout>& rs, int64_t T, int64_t max_rows, int32_t pad,
                     const PackedRolloutsFn& fn);

// Log-probs of every rollout's packed positions under m (its current mode
// and adapter) into r.*dst. `after` (optional) runs on each batch after the
// forward pass, while m's hidden states are those of the batch.
void reply_logps(Transformer& m, std::vector<Rollout>& rs, int64_t T, int64_t max_rows, int32_t pad,
                 std::vector<float> Rollout::*dst, const PackedRolloutsFn& after = {});

}  // namespace shog
