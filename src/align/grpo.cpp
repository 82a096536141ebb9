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
#include <memory>

#include <fmt/format.h>

#include "align/packing.h"
#include "align/policy_loss.h"
#include "align/reference_policy.h"
#include "align/rollouts.h"
#include "core/error.h"
#include "core/file_io.h"
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
  reward.register_fields(f, "grpo");
}

void GrpoConfig::validate(bool custom_reward) const {
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
  if (!custom_reward) reward.validate("grpo");
}

GrpoResult run_grpo(const GrpoConfig& cfg, const GrpoOptions& options) {
  cfg.validate(bool(options.reward));
  const auto& t = cfg.train;
  t.apply_threads();
  FinetuneModel fm(cfg.model, uint64_t(t.seed));
  Transformer& m = fm.model();
  const auto prompts = read_prompts(t.train_data);
  SHOG_CHECK(!prompts.empty(), ErrorKind::invalid_argument, t.train_data, "no prompts");
  RolloutRewarder rewarder(cfg.reward, "grpo", prompts, t.train_data, options.reward);
  std::unique_ptr<ReferencePolicy> ref;
  if (cfg.beta > 0) ref = std::make_unique<ReferencePolicy>(fm);
  const bool scale = cfg.loss != "dr_grpo";
  const double eps_hi = cfg.clip_eps_high > 0 ? cfg.clip_eps_high : cfg.clip_eps;
  const int64_t G = cfg.group_size, P = cfg.prompts_per_step;
  const int64_t total = rollout_steps(t, prompts.size(), P);
  AdamWOptimizer opt(fm.train_table(), t.hyper());
  const LrSchedule sched = t.schedule_for(total * cfg.epochs_per_batch);
  make_dirs(t.out_dir);
  MetricsLog metrics(t.out_dir + "/metrics.jsonl");
  ProgressLine progress(total, t.log_every, t.progress);
  std::fprintf(stderr, "grpo: %zu prompts, %lld steps of %lld prompts x %lld replies, loss %s, reward %s, %s\n",
               prompts.size(), (long long)total, (long long)P, (long long)G, cfg.loss.c_str(),
               options.reward ? "custom" : cfg.reward.kind.c_str(), fm.adapter() ? "LoRA" : "full");

  PromptCycle cycle(prompts.size(), uint64_t(t.seed) * 7919 + 1);
  GrpoResult res;
  res.prompts = int64_t(prompts.size());
  std::vector<double> step_rewards;
  const auto run_start = std::chrono::steady_clock::now();
  int64_t opt_step = 0;
  for (int64_t step = 0; step < total; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    // 1. Prompts, reshuffled each pass; 2. G rollouts per prompt, all in one engine run.
    const std::vector<size_t> chosen = cycle.next(P);
    RolloutSampling rsm{G, cfg.max_new_tokens, cfg.temperature, t.seq_len,
                        uint64_t(t.seed) * 1000003 + uint64_t(step) * 4099};
    std::vector<Rollout> rs = sample_rollouts(fm, prompts, chosen, rsm);
    // 3. Rewards and advantages.
    const std::vector<ReplyScore> scores = rewarder.score(rs);
    std::vector<double> rewards(rs.size());
    for (size_t i = 0; i < rs.size(); ++i) rewards[i] = scores[i].score;
    const std::vector<double> adv = group_advantages(rewards, G, scale);
    // 4. Old (and reference) log-probs.
    m.set_training(false);
    reply_logps(m, rs, t.seq_len, t.batch_rows, fm.pad_id(), &Rollout::old_logp);
    if (ref) ref->logps(rs, t.seq_len, t.batch_rows);
    // 5. Optimisation passes over the rollouts.
    int64_t reply_tokens = 0;
    for (auto& r : rs) reply_tokens += r.reply_tokens();
    m.set_training(true);
    double loss = 0, clip_frac = 0, kl = 0, gnorm = 0;
    for (int64_t epoch = 0; epoch < cfg.epochs_per_batch; ++epoch) {
      fm.zero_grad();
      loss = clip_frac = kl = 0;
      for_each_packed(rs, t.seq_len, t.batch_rows, fm.pad_id(), [&](const PackedBatch& b, std::span<const size_t> g) {
        m.forward(b.inputs.data(), b.B, b.T, b.seg_lens);
        std::vector<float> lp(b.inputs.size()), grad(b.inputs.size(), 0.0f);
        m.token_logprobs(b.targets.data(), lp.data());
        for (size_t k = 0; k < g.size(); ++k) {
          const Rollout& r = rs[g[k]];
          const int64_t n = r.reply_tokens();
          const double w = cfg.loss == "grpo"    ? 1.0 / (double(std::max<int64_t>(n, 1)) * double(rs.size()))
                           : cfg.loss == "dapo"  ? 1.0 / double(std::max<int64_t>(reply_tokens, 1))
                                                 : 1.0 / (double(rs.size()) * double(cfg.max_new_tokens));
          for (int64_t j = 0; j < b.length[k]; ++j) {
            const size_t at = size_t(b.first[k] + j);
            if (b.weights[at] == 0) continue;
            TokenLoss tl = clipped_surrogate(lp[at], r.old_logp[size_t(j)], adv[g[k]], cfg.clip_eps, eps_hi);
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
      });
      SHOG_CHECK(std::isfinite(loss), ErrorKind::numeric, fmt::format("grpo step {}", step + 1),
                 "loss is {}; stopping without saving", loss);
      gnorm = opt.step(fm.train_params(), fm.train_grads(), sched.at(opt_step), float(t.grad_clip),
                       fm.train_params16());
      ++opt_step;
    }
    // 6. Log.
    double mean_r = 0, acc = 0, refused = 0, trunc = 0, len = 0, sd = 0;
    for (size_t i = 0; i < rs.size(); ++i)
      mean_r += rewards[i], acc += scores[i].correct, refused += scores[i].refused, trunc += rs[i].truncated;
    mean_r /= double(rs.size());
    for (double r : rewards) sd += (r - mean_r) * (r - mean_r);
    sd = std::sqrt(sd / double(rs.size()));
    len = double(reply_tokens) / double(rs.size());
    acc /= double(rs.size()), refused /= double(rs.size()), trunc /= double(rs.size());
    step_rewards.push_back(mean_r);
    res.final_accuracy = acc;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    nlohmann::json row = {{"step", step + 1}, {"reward", mean_r}, {"reward_std", sd}, {"loss", loss},
                          {"clip_fraction", clip_frac}, {"reply_tokens", len}, {"truncated", trunc},
                          {"grad_norm", gnorm}, {"lr", sched.at(opt_step - 1)}, {"step_s", secs}};
    if (rewarder.uses_checker()) row["accuracy"] = acc, row["refusal_rate"] = refused;
    if (cfg.beta > 0) row["kl"] = kl;
    metrics.append(row);
    progress.show(step + 1,
                  fmt::format("reward {:.3f} | acc {:.3f} | len {:.1f} | clip {:.3f}", mean_r, acc, len, clip_frac),
                  secs);
    res.steps = step + 1;
  }
  const StartEnd trend = start_and_end_means(step_rewards);
  res.first_reward = trend.start, res.final_reward = trend.end;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
  fm.save(t.out_dir);
  plot_metrics(t.out_dir + "/grpo.svg", "shoggoth grpo", "reward / accuracy", metrics.rows(),
               {{"reward", "mean reward", "#1f77b4"}, {"accuracy", "checker accuracy", "#2ca02c"},
                {"refusal_rate", "refusal rate", "#d62728"}});
  return res;
}

}  // namespace shog
