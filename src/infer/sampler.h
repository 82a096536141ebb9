// Sampling one next token per sequence from a row of logits: penalties,
// temperature, top-k, top-p, min-p, a seeded RNG, and log-probs. docs/sampling.md
// has the full semantics; in short, for one call:
//
//   1. penalties on the raw logits, for each distinct token t in `context` with
//      count c = occurrences of t in context:
//        repetition (CTRL, Keskar et al. 2019; HF/llama.cpp): l > 0 ? l / r : l * r
//        frequency and presence (OpenAI):                   l -= freq * c + presence * 1
//   2. log-probs (the chosen token's and the top-n alternatives) come from the
//      log-softmax of THESE logits: after penalties, before temperature and
//      truncation. They describe the (penalised) model, not the truncated
//      sampling distribution, which would give -inf to every dropped alternative
//      and depends on knobs the caller chose. OpenAI likewise reports the model's
//      distribution.
//   3. greedy (temperature <= 0): argmax, ties to the lowest token id. Otherwise:
//   4. temperature: z = l / T
//   5. top-k (k > 0): keep the k largest z (ties: lower id first)
//   6. top-p: keep the smallest prefix of the remaining tokens, by descending
//      probability renormalised over them, whose cumulative probability >= p
//      (always at least one token)
//   7. min-p: keep tokens with prob >= min_p * max prob (a ratio, so unaffected
//      by the renormalisation between steps)
//   8. draw from the kept tokens, renormalised, with the Sampler's RNG.
//
// Reproducibility: a Sampler owns Rng(seed) and draws exactly one uniform per
// sample() call, greedy or not, so token n of a sequence depends only on the
// seed, n and the logits; sequences with different seeds are independent.
//
// Cost at vocab 50k: a few linear, vectorised passes (copy, max, exp-sum), a
// heap for top-k and a bucketed cut for top-p; never a sort of the vocab. An
// untruncated draw finds its block of 256 tokens from the exp-sum's partial
// sums and scans only that block.
// All buffers are members reused across calls, so after the first call at a
// given vocab size nothing is allocated (except the returned `top` vector).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/random.h"
#include "infer/stop_strings.h"

namespace shog {

struct SamplingParams {
  float temperature = 1.0f;      // <= 0: greedy; validate() accepts >= 0 only
  int top_k = 0;                 // 0: off
  float top_p = 1.0f;            // (0, 1]; 1: off
  float min_p = 0.0f;            // [0, 1]; 0: off
  float repetition_penalty = 1.0f,  // > 0; 1: off
      frequency_penalty = 0.0f,     // [-2, 2] as OpenAI; 0: off
      presence_penalty = 0.0f;      // [-2, 2] as OpenAI; 0: off
  uint64_t seed = 0;
  int max_new_tokens = 128;      // >= 0 (0: score the prompt only)
  std::vector<int32_t> stop_tokens;       // checked by the engine, not the Sampler
  std::vector<std::string> stop_strings;  // see StopStringMatcher
  int top_logprobs = 0;          // alternatives to report, [0, kMaxTopLogprobs]
  bool greedy() const { return temperature <= 0.0f; }

  static constexpr int kMaxTopLogprobs = 20;  // OpenAI's limit

  // Throws shog::Error(invalid_argument) whose message names the field, e.g.
  // "top_p must be in (0, 1], got 1.5". The overload puts `where` (a request id,
  // a config file) in the error's where().
  void validate() const;
  void validate(const std::string& where) const;

  bool is_stop_token(int32_t t) const;
};

struct TokenLogprob {
  int32_t token;
  float logprob;
};

struct SampledToken {
  int32_t token;
  float logprob;                   // of `token`, see step 2 above
  std::vector<TokenLogprob> top;   // top_logprobs alternatives, by descending logprob, ties by id
};

class Sampler {
 public:
  // Does not validate (the caller did, where it can name the request).
  explicit Sampler(const SamplingParams& p);

  // logits: one row of `vocab` floats (not modified). context: the tokens the
  // penalties count (the engine passes prompt + generated so far); every id must
  // be in [0, vocab). Throws shog::Error(numeric) if the logits hold a NaN or
  // are all -inf, invalid_argument for a context id out of range.
  SampledToken sample(const float* logits, int64_t vocab, std::span<const int32_t> context);

  // Step 1 alone, in place: what sample() does to its copy of the logits.
  void apply_penalties(std::span<float> logits, std::span<const int32_t> context);

  // After sample(): the tokens it drew from, in id order, and their
  // renormalised probabilities (the whole vocab when nothing truncates; the
  // argmax with probability 1 when greedy). The draw walks them in this order,
  // so it does not depend on how any selection algorithm arranged them.
  // For tests and debugging.
  std::span<const int32_t> kept_tokens() const {
    materialize_full_distribution();
    return {kept_ids_.data(), kept_n_};
  }
  std::span<const float> kept_probs() const {
    materialize_full_distribution();
    return {kept_probs_.data(), kept_n_};
  }

  const SamplingParams& params() const { return params_; }
  Rng& rng() { return rng_; }  // its state goes in a checkpoint / is restored from one

 private:
  void reserve(int64_t vocab);
  void fill_top_logprobs(int64_t vocab, float lmax, double log_z, int n, std::vector<TokenLogprob>& out);
  // Steps 5-7: leaves the kept ids in kept_ids_ (id order) and returns how many.
  size_t truncate(int64_t vocab, float lmax, float inv_t, double z_t);
  // An untruncated draw leaves kept_probs_ unnormalised and kept_ids_ unfilled:
  // two vocab-sized passes that only the accessors above need.
  void materialize_full_distribution() const;

  SamplingParams params_;
  Rng rng_;
  std::vector<float> logits_;      // penalised copy of the row
  std::vector<int32_t> counts_;    // per-token occurrences in context; all zero between calls
  std::vector<float> weights_;     // exp((l - lmax) / T) per token, when truncating
  mutable std::vector<int32_t> kept_ids_;
  mutable std::vector<float> kept_probs_;
  std::vector<double> block_mass_;  // the untruncated weights' sum per block of 256 tokens, for the draw
  std::vector<int32_t> scratch_;   // top-k's heap, top-p's sorted candidates, the top_logprobs best
  std::vector<double> bin_mass_;   // top-p's buckets over a large candidate set
  std::vector<uint16_t> bins_;     // each candidate's bucket
  size_t kept_n_ = 0;
  mutable double full_z_ = 0.0;  // > 0: kept_* still hold the unnormalised untruncated distribution
};

}  // namespace shog
