// GRPO (Shao et al. 2024, DeepSeekMath), with Dr. GRPO (Liu et al. 2025) and
// DAPO (Yu et al. 2025) loss normalisations:
//   A_i = (R_i - mean_g R) [/ std_g R]                  per reply i of group g
//   l_t = -min(r_t A_i, clip(r_t, 1-e_lo, 1+e_hi) A_i) + beta KL_k3,t
//   grpo:    L = mean_i (1/|o_i|) sum_t l_t    (std-scaled A)
//   dr_grpo: L = (1/(G * max_new_tokens)) sum_i sum_t l_t    (unscaled A)
//   dapo:    L = (1 / sum_i |o_i|) sum_i sum_t l_t            (std-scaled A)
// Per step: draw prompts, sample group_size replies each with the engine
// (the policy's current weights, its LoRA adapter on the rows), reward them,
// compute the advantages and the old log-probs, then epochs_per_batch passes
// of packed micro-batches through the token loss and one AdamW step each.
#include "align/grpo.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "align/packing.h"
#include "align/policy_loss.h"
#include "align/reward.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/random.h"
#include "data/records.h"
#include "data/synth/checker.h"
#include "infer/engine.h"
#include "train/adamw_optimizer.h"
#include "train/run_log.h"

namespace shog {

void GrpoConfig::register_fields(ConfigFields& f) {
  model.register_fields(f);
  train.register_fields(f);
  f.add("grpo.group_size", "replies sampled per prompt", &group_size);
  f.add("grpo.prompts_per_step", "prompts per optimizer step", &prompts_per_step);
  f.add("grpo.max_new_tokens", "reply length limit", &max_new_tokens);
  f.add("grpo.epochs_per_batch", "optimizer passes over each batch of rollouts", &epochs_per_batch);
  f.add("grpo.temperature", "sampling temperature of the rollouts", &temperature);
  f.add("grpo.clip_eps", "ratio clip epsilon (lower side, and upper when clip_eps_high = 0)", &clip_eps);
  f.add("grpo.clip_eps_high", "upper clip epsilon (DAPO's clip-higher; 0: clip_eps)", &clip_eps_high);
  f.add("grpo.beta", "KL-to-reference coefficient (0: off, no reference kept)", &beta);
  f.add("grpo.loss", "loss normalisation: grpo, dr_grpo, dapo", &loss);
  f.add("grpo.reward", "reward: checker, reward_model or mix", &reward);
  f.add("grpo.reward_model", "reward model directory (reward_model, mix)", &reward_model);
  f.add("grpo.checker_weight", "weight of the checker reward in mix", &checker_weight);
  f.add("grpo.reward_model_weight", "weight of the reward-model score in mix", &reward_model_weight);
}

void GrpoConfig::validate() const {
  train.validate();
  auto need = [](bool ok, const char* key, const char* why) {
    if (!ok) throw Error(ErrorKind::invalid_argument, key, why);
  };
  need(group_size >= 2, "grpo.group_size", "must be >= 2 (advantages are relative to the group)");
  need(prompts_per_step >= 1, "grpo.prompts_per_step", "must be >= 1");
  need(max_new_tokens >= 1, "grpo.max_new_tokens", "must be >= 1");
  need(epochs_per_batch >= 1, "grpo.epochs_per_batch", "must be >= 1");
  need(temperature > 0, "grpo.temperature", "must be > 0");
  need(clip_eps > 0 && clip_eps < 1, "grpo.clip_eps", "must be in (0, 1)");
  need(clip_eps_high >= 0, "grpo.clip_eps_high", "must be >= 0");
  need(beta >= 0, "grpo.beta", "must be >= 0");
  need(loss == "grpo" || loss == "dr_grpo" || loss == "dapo", "grpo.loss", "must be grpo, dr_grpo or dapo");
  need(reward == "checker" || reward == "reward_model" || reward == "mix", "grpo.reward",
       "must be checker, reward_model or mix");
  need(reward == "checker" || !reward_model.empty(), "grpo.reward_model", "a reward model directory is needed");
}

namespace {

struct Rollout {
  size_t prompt;          // index into the prompt set
  TokenizedSample sample; // prompt + reply; mask on the reply
  std::string text;
  bool truncated = false;
  double reward = 0, advantage = 0;
  bool correct = false, refused = false;
  std::vector<float> old_logp, ref_logp;  // per packed position of the reply
};

// Per-token log-probs of each rollout's reply under `m`, packed.
void reply_logps(Transformer& m, std::vector<Rollout>& rs, const AlignTrainSettings& t, int32_t pad,
                 std::vector<float> Rollout::*dst) {
  std::vector<std::vector<int64_t>> lens;
  std::vector<size_t> order;
  for (size_t i = 0; i < rs.size(); ++i) lens.push_back({packed_length(rs[i].sample, PackMode::next_token)}), order.push_back(i);
  for (auto& g : plan_batches(lens, order, t.seq_len, t.batch_rows)) {
    std::vector<const TokenizedSample*> ptrs;
    for (size_t i : g) ptrs.push_back(&rs[i].sample);
    PackedBatch b = pack_samples(ptrs, t.seq_len, PackMode::next_token, pad);
    m.forward(b.inputs.data(), b.B, b.T, b.seg_lens);
    std::vector<float> lp(b.inputs.size());
    m.token_logprobs(b.targets.data(), lp.data());
    for (size_t k = 0; k < g.size(); ++k)
      (rs[g[k]].*dst).assign(lp.begin() + b.first[k], lp.begin() + b.first[k] + b.length[k]);
  }
}

}  // namespace

GrpoResult run_grpo(const GrpoConfig& cfg) {
  cfg.validate();
  const auto& t = cfg.train;
  t.apply_threads();
  FinetuneModel fm(cfg.model, uint64_t(t.seed));
  Transformer& m = fm.model();
  const auto prompts = read_prompts(t.train_data);
  SHOG_CHECK(!prompts.empty(), ErrorKind::invalid_argument, t.train_data, "no prompts");
  const bool use_checker = cfg.reward != "reward_model", use_rm = cfg.reward != "checker";
  if (use_checker)
    for (size_t i = 0; i < prompts.size(); ++i)
      SHOG_CHECK(prompts[i].meta.is_object() && prompts[i].meta.contains("checker"), ErrorKind::bad_input,
                 fmt::format("{}:{}", t.train_data, i + 1), "no \"checker\" object (needed for grpo.reward = {})",
                 cfg.reward);
  std::unique_ptr<RewardModel> rm;
  if (use_rm) rm = std::make_unique<RewardModel>(RewardModel::load(cfg.reward_model, DType::bf16));
  // The reference: for LoRA the base with the adapter detached; for full
  // fine-tuning a frozen copy of the starting weights.
  std::unique_ptr<Transformer> ref_copy;
  if (cfg.beta > 0 && !fm.adapter()) {
    ref_copy = std::make_unique<Transformer>(m.config(), m.compute_dtype());
    std::memcpy(ref_copy->params(), m.params(), size_t(m.num_floats()) * sizeof(float));
    ref_copy->sync_compute_weights();
  }
  const bool scale = cfg.loss != "dr_grpo";
  const double eps_hi = cfg.clip_eps_high > 0 ? cfg.clip_eps_high : cfg.clip_eps;
  const int64_t G = cfg.group_size, P = cfg.prompts_per_step;
  const int64_t total = t.steps > 0 ? t.steps
                                    : std::max<int64_t>(1, int64_t(std::ceil(t.epochs * double(prompts.size()) /
                                                                             double(P))));
  AdamWOptimizer opt(fm.train_table(), t.hyper());
  const LrSchedule sched = t.schedule_for(total * cfg.epochs_per_batch);
  make_dirs(t.out_dir);
  MetricsLog metrics(t.out_dir + "/metrics.jsonl");
  ProgressLine progress(total, t.log_every, t.progress);
  std::fprintf(stderr, "grpo: %zu prompts, %lld steps of %lld prompts x %lld replies, loss %s, reward %s, %s\n",
               prompts.size(), (long long)total, (long long)P, (long long)G, cfg.loss.c_str(), cfg.reward.c_str(),
               fm.adapter() ? "LoRA" : "full");

  EngineOptions eo;
  eo.max_batch = std::min<int64_t>(64, P * G);
  Rng order_rng(uint64_t(t.seed) * 7919 + 1);
  std::vector<size_t> order;
  size_t next_prompt = 0;
  GrpoResult res;
  res.prompts = int64_t(prompts.size());
  const auto run_start = std::chrono::steady_clock::now();
  int64_t opt_step = 0;
  for (int64_t step = 0; step < total; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    // 1. Prompts, reshuffled each pass.
    std::vector<size_t> chosen;
    while (int64_t(chosen.size()) < P) {
      if (next_prompt == order.size()) {
        order.resize(prompts.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[size_t(order_rng.next_u64() % i)]);
        next_prompt = 0;
      }
      chosen.push_back(order[next_prompt++]);
    }
    // 2. Rollouts: G samples per prompt, all in one engine run.
    m.set_training(false);
    std::vector<Rollout> rs;
    {
      Engine eng(m, &fm.tokenizer(), eo);
      std::vector<RequestId> ids;
      for (size_t p : chosen) {
        auto prompt_ids = fm.chat().render(prompts[p].prompt, true).ids;
        for (int64_t j = 0; j < G; ++j) {
          GenerationRequest req;
          req.prompt = prompt_ids;
          req.params.temperature = float(cfg.temperature);
          req.params.seed = uint64_t(t.seed) * 1000003 + uint64_t(step) * 4099 + uint64_t(rs.size());
          req.params.max_new_tokens = int(std::min<int64_t>(cfg.max_new_tokens, t.seq_len + 1 - int64_t(prompt_ids.size())));
          req.params.stop_tokens = {fm.chat().end_id()};
          req.overflow = PromptOverflow::error;
          req.adapter = fm.adapter();
          SHOG_CHECK(req.params.max_new_tokens >= 1, ErrorKind::invalid_argument, "train.seq_len",
                     "a prompt of {} tokens leaves no room for a reply in {} tokens", prompt_ids.size(), t.seq_len);
          ids.push_back(eng.add(std::move(req)));
          Rollout r;
          r.prompt = p;
          r.sample.ids = prompt_ids;
          r.sample.mask.assign(prompt_ids.size(), 0);
          rs.push_back(std::move(r));
        }
      }
      eng.run_until_done();
      for (size_t i = 0; i < rs.size(); ++i) {
        GenerationResult g = eng.take_result(ids[i]);
        for (auto& tok : g.tokens) rs[i].sample.ids.push_back(tok.token), rs[i].sample.mask.push_back(1);
        rs[i].text = g.text;
        rs[i].truncated = g.finish == FinishReason::length;
      }
    }
    // 3. Rewards and advantages.
    std::vector<double> rewards(rs.size(), 0.0);
    if (use_checker)
      for (size_t i = 0; i < rs.size(); ++i) {
        auto c = synth::check_reply(prompts[rs[i].prompt].meta["checker"], rs[i].text);
        rs[i].correct = c.correct, rs[i].refused = c.refused;
        rewards[i] += (cfg.reward == "mix" ? cfg.checker_weight : 1.0) * c.reward;
      }
    if (use_rm) {
      std::vector<Messages> convs;
      for (auto& r : rs) {
        Messages c = prompts[r.prompt].prompt;
        c.push_back({ChatRole::assistant, r.text});
        convs.push_back(std::move(c));
      }
      auto s = rm->score(convs);
      for (size_t i = 0; i < rs.size(); ++i)
        rewards[i] += (cfg.reward == "mix" ? cfg.reward_model_weight : 1.0) * (std::isnan(s[i]) ? 0.0 : s[i]);
    }
    auto adv = group_advantages(rewards, G, scale);
    for (size_t i = 0; i < rs.size(); ++i) rs[i].reward = rewards[i], rs[i].advantage = adv[i];
    // 4. Old (and reference) log-probs.
    reply_logps(m, rs, t, fm.pad_id(), &Rollout::old_logp);
    if (cfg.beta > 0) {
      if (fm.adapter()) {
        m.attach_lora(nullptr);
        reply_logps(m, rs, t, fm.pad_id(), &Rollout::ref_logp);
        m.attach_lora(fm.adapter());
      } else {
        reply_logps(*ref_copy, rs, t, fm.pad_id(), &Rollout::ref_logp);
      }
    }
    // 5. Optimisation passes over the rollouts.
    int64_t reply_tokens = 0;
    for (auto& r : rs)
      for (size_t j = 1; j < r.sample.mask.size(); ++j) reply_tokens += r.sample.mask[j];
    m.set_training(true);
    double loss = 0, clip_frac = 0, kl = 0, gnorm = 0;
    for (int64_t epoch = 0; epoch < cfg.epochs_per_batch; ++epoch) {
      fm.zero_grad();
      loss = clip_frac = kl = 0;
      std::vector<std::vector<int64_t>> lens;
      std::vector<size_t> idx;
      for (size_t i = 0; i < rs.size(); ++i) lens.push_back({packed_length(rs[i].sample, PackMode::next_token)}), idx.push_back(i);
      for (auto& g : plan_batches(lens, idx, t.seq_len, t.batch_rows)) {
        std::vector<const TokenizedSample*> ptrs;
        for (size_t i : g) ptrs.push_back(&rs[i].sample);
        PackedBatch b = pack_samples(ptrs, t.seq_len, PackMode::next_token, fm.pad_id());
        m.forward(b.inputs.data(), b.B, b.T, b.seg_lens);
        std::vector<float> lp(b.inputs.size()), grad(b.inputs.size(), 0.0f);
        m.token_logprobs(b.targets.data(), lp.data());
        for (size_t k = 0; k < g.size(); ++k) {
          const Rollout& r = rs[g[k]];
          int64_t n = 0;
          for (int64_t j = 0; j < b.length[k]; ++j) n += b.weights[size_t(b.first[k] + j)] > 0;
          const double w = cfg.loss == "grpo"    ? 1.0 / (double(std::max<int64_t>(n, 1)) * double(rs.size()))
                           : cfg.loss == "dapo"  ? 1.0 / double(std::max<int64_t>(reply_tokens, 1))
                                                 : 1.0 / (double(rs.size()) * double(cfg.max_new_tokens));
          for (int64_t j = 0; j < b.length[k]; ++j) {
            const size_t at = size_t(b.first[k] + j);
            if (b.weights[at] == 0) continue;
            TokenLoss tl = clipped_surrogate(lp[at], r.old_logp[size_t(j)], r.advantage, cfg.clip_eps, eps_hi);
            double l = tl.loss, d = tl.d_logp;
            if (cfg.beta > 0) {
              TokenLoss k3 = kl_k3(lp[at], r.ref_logp[size_t(j)]);
              l += cfg.beta * k3.loss, d += cfg.beta * k3.d_logp;
              kl += k3.loss / double(reply_tokens);
            }
            loss += w * l;
            clip_frac += tl.clipped / double(reply_tokens);
            grad[at] = float(w * d);
          }
        }
        m.logprob_backward(b.targets.data(), grad.data());
      }
      SHOG_CHECK(std::isfinite(loss), ErrorKind::numeric, fmt::format("grpo step {}", step + 1),
                 "loss is {}; stopping without saving", loss);
      gnorm = opt.step(fm.train_params(), fm.train_grads(), sched.at(opt_step), float(t.grad_clip),
                       fm.train_params16());
      ++opt_step;
    }
    // 6. Log.
    double mean_r = 0, acc = 0, refused = 0, trunc = 0, len = 0, sd = 0;
    for (auto& r : rs) mean_r += r.reward, acc += r.correct, refused += r.refused, trunc += r.truncated;
    mean_r /= double(rs.size());
    for (auto& r : rs) sd += (r.reward - mean_r) * (r.reward - mean_r);
    sd = std::sqrt(sd / double(rs.size()));
    len = double(reply_tokens) / double(rs.size());
    acc /= double(rs.size()), refused /= double(rs.size()), trunc /= double(rs.size());
    if (step == 0) res.first_reward = mean_r;
    res.final_reward = mean_r, res.final_accuracy = acc;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    nlohmann::json row = {{"step", step + 1}, {"reward", mean_r}, {"reward_std", sd}, {"loss", loss},
                          {"clip_fraction", clip_frac}, {"reply_tokens", len}, {"truncated", trunc},
                          {"grad_norm", gnorm}, {"lr", sched.at(opt_step - 1)}, {"step_s", secs}};
    if (use_checker) row["accuracy"] = acc, row["refusal_rate"] = refused;
    if (cfg.beta > 0) row["kl"] = kl;
    metrics.append(row);
    progress.show(step + 1,
                  fmt::format("reward {:.3f} | acc {:.3f} | len {:.1f} | clip {:.3f}", mean_r, acc, len, clip_frac),
                  secs);
    res.steps = step + 1;
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
  fm.save(t.out_dir);
  plot_metrics(t.out_dir + "/grpo.svg", "shoggoth grpo", "reward / accuracy", metrics.rows(),
               {{"reward", "mean reward", "#1f77b4"}, {"accuracy", "checker accuracy", "#2ca02c"},
                {"refusal_rate", "refusal rate", "#d62728"}});
  return res;
}

}  // namespace shog
