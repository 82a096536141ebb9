#include "align/rollouts.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "infer/engine.h"

namespace shog {

int64_t rollout_steps(const AlignTrainSettings& t, size_t n_prompts, int64_t prompts_per_step) {
  if (t.steps > 0) return t.steps;
  return std::max<int64_t>(1, int64_t(std::ceil(t.epochs * double(n_prompts) / double(prompts_per_step))));
}

StartEnd start_and_end_means(std::span<const double> per_step, size_t k) {
  const size_t n = std::min(k, per_step.size());
  if (n == 0) return {};
  StartEnd r;
  for (size_t i = 0; i < n; ++i) r.start += per_step[i], r.end += per_step[per_step.size() - n + i];
  r.start /= double(n), r.end /= double(n);
  return r;
}

PromptCycle::PromptCycle(size_t n_prompts, uint64_t seed) : n_(n_prompts), rng_(seed) {
  SHOG_CHECK(n_prompts > 0, ErrorKind::invalid_argument, "prompts", "no prompts");
}

std::vector<size_t> PromptCycle::next(int64_t count) {
  std::vector<size_t> out;
  while (int64_t(out.size()) < count) {
    if (at_ == order_.size()) {
      order_.resize(n_);
      for (size_t i = 0; i < n_; ++i) order_[i] = i;
      for (size_t i = n_; i > 1; --i) std::swap(order_[i - 1], order_[size_t(rng_.next_u64() % i)]);
      at_ = 0;
    }
    out.push_back(order_[at_++]);
  }
  return out;
}

// What the engine's text stream would print: every token's bytes, but
// nothing for control tokens (the end marker included) and for ids outside
// the tokenizer.
static std::string reply_text(const Tokenizer& tok, const std::vector<GeneratedToken>& tokens) {
  std::string text;
  for (auto& t : tokens)
    if (t.token < tok.vocab_size() && !tok.is_special(t.token))
      text += tok.decode(std::span<const int32_t>(&t.token, 1));
  return text;
}

std::vector<Rollout> sample_rollouts(FinetuneModel& fm, const std::vector<PromptRecord>& prompts,
                                     std::span<const size_t> chosen, const RolloutSampling& s) {
  Transformer& m = fm.model();
  const bool was_training = m.training();
  m.set_training(false);
  EngineOptions eo;
  eo.max_batch = std::min<int64_t>(64, int64_t(chosen.size()) * s.per_prompt);
  // The engine gets no tokenizer: with one it never samples the ids the
  // tokenizer cannot decode (a vocabulary padded for GEMM shapes), while the
  // trainers' log-probs are over the whole vocabulary. Sampling from
  // exactly the distribution being trained keeps the ratios and the KL
  // estimates unbiased; otherwise the policy can move probability onto ids
  // it never samples, which lowers every sampled token's log-prob and looks
  // like a negative KL to the reference. The text is decoded below.
  Engine eng(m, nullptr, eo);
  std::vector<Rollout> rs;
  std::vector<RequestId> ids;
  for (size_t p : chosen) {
    auto prompt_ids = fm.chat().render(prompts[p].prompt, true).ids;
    for (int64_t j = 0; j < s.per_prompt; ++j) {
      GenerationRequest req;
      req.prompt = prompt_ids;
      req.params.temperature = float(s.temperature);
      req.params.seed = s.seed + uint64_t(rs.size());
      req.params.max_new_tokens = int(std::min<int64_t>(s.max_new_tokens, s.seq_len + 1 - int64_t(prompt_ids.size())));
      req.params.stop_tokens = {fm.chat().end_id()};
      req.overflow = PromptOverflow::error;
      req.adapter = fm.adapter();
      SHOG_CHECK(req.params.max_new_tokens >= 1, ErrorKind::invalid_argument, "train.seq_len",
                 "a prompt of {} tokens leaves no room for a reply in {} tokens", prompt_ids.size(), s.seq_len);
      ids.push_back(eng.add(std::move(req)));
      Rollout r;
      r.prompt = p;
      r.sample.ids = prompt_ids;
      r.sample.mask.assign(prompt_ids.size(), 0);
      r.prompt_tokens = int64_t(prompt_ids.size());
      rs.push_back(std::move(r));
    }
  }
  eng.run_until_done();
  for (size_t i = 0; i < rs.size(); ++i) {
    GenerationResult g = eng.take_result(ids[i]);
    SHOG_CHECK(g.finish != FinishReason::error, ErrorKind::numeric, "rollout", "generation failed: {}", g.error);
    for (auto& tok : g.tokens) rs[i].sample.ids.push_back(tok.token), rs[i].sample.mask.push_back(1);
    rs[i].text = reply_text(fm.tokenizer(), g.tokens);
    rs[i].truncated = g.finish == FinishReason::length;
  }
  m.set_training(was_training);
  return rs;
}

void for_each_packed(const std::vector<Rollout>& rs, std::span<const size_t> which, int64_t T, int64_t max_rows,
                     int32_t pad, const PackedRolloutsFn& fn) {
  std::vector<std::vector<int64_t>> lens;
  std::vector<size_t> order;
  for (size_t k = 0; k < which.size(); ++k)
    lens.push_back({packed_length(rs[which[k]].sample, PackMode::next_token)}), order.push_back(k);
  for (auto& g : plan_batches(lens, order, T, max_rows)) {
    std::vector<size_t> idx;
    std::vector<const TokenizedSample*> ptrs;
    for (size_t k : g) idx.push_back(which[k]), ptrs.push_back(&rs[which[k]].sample);
    fn(pack_samples(ptrs, T, PackMode::next_token, pad), idx);
  }
}

void for_each_packed(const std::vector<Rollout>& rs, int64_t T, int64_t max_rows, int32_t pad,
                     const PackedRolloutsFn& fn) {
  std::vector<size_t> all(rs.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  for_each_packed(rs, all, T, max_rows, pad, fn);
}

void reply_logps(Transformer& m, std::vector<Rollout>& rs, int64_t T, int64_t max_rows, int32_t pad,
                 std::vector<float> Rollout::*dst, const PackedRolloutsFn& after) {
  for_each_packed(rs, T, max_rows, pad, [&](const PackedBatch& b, std::span<const size_t> idx) {
    m.forward(b.inputs.data(), b.B, b.T, b.seg_lens);
    std::vector<float> lp(b.inputs.size());
    m.token_logprobs(b.targets.data(), lp.data());
    for (size_t k = 0; k < idx.size(); ++k)
      (rs[idx[k]].*dst).assign(lp.begin() + b.first[k], lp.begin() + b.first[k] + b.length[k]);
    if (after) after(b, idx);
  });
}

}  // namespace shog
