// PPO for language models as in InstructGPT (Ouyang et al. 2022), following
// Ziegler et al. 2019 and Stiennon et al. 2020. For a reply y_1..y_n to x:
//   r_t = -beta (log pi_old(y_t) - log pi_ref(y_t)) + [t = n] score(x, y)
//   A_t = GAE(gamma, lambda) of r against V_old,  R_t = A_t + V_old,t
//   L   = mean_t -min(rho_t A_t, clip(rho_t, 1 - eps, 1 + eps) A_t)
//       + vf_coef mean_t 0.5 max((V_t - R_t)^2, (clip(V_t, V_old,t +- eps_v) - R_t)^2)
// with rho_t = pi(y_t) / pi_old(y_t), A whitened over the batch, means over
// the reply tokens of a minibatch, and beta fixed or adapted towards a target
// KL (align/ppo_math.h). Per step: draw prompts, sample one reply each with
// the engine, score the replies, run the policy (old log-probs, values,
// entropy), the reference and the value model over them, shape the rewards,
// GAE, then ppo_epochs passes over the batch in `minibatches` shuffled
// minibatches, one AdamW step each; then adapt beta.
#include "align/ppo.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "align/policy_loss.h"
#include "align/ppo_math.h"
#include "align/reference_policy.h"
#include "align/rollouts.h"
#include "align/value_model.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/random.h"
#include "train/adamw_optimizer.h"
#include "train/run_log.h"

namespace shog {

void PpoConfig::register_fields(ConfigFields& f) {
  model.register_fields(f);
  train.register_fields(f);
  f.add("ppo.rollouts_per_step", "prompts per step, one sampled reply each", &rollouts_per_step);
  f.add("ppo.max_new_tokens", "reply length limit", &max_new_tokens);
  f.add("ppo.temperature", "sampling temperature of the rollouts", &temperature);
  f.add("ppo.ppo_epochs", "optimisation passes over each batch of rollouts", &ppo_epochs);
  f.add("ppo.minibatches", "minibatches (optimizer steps) per pass", &minibatches);
  f.add("ppo.clip_eps", "policy ratio clip epsilon", &clip_eps);
  f.add("ppo.value_clip_eps", "value clip epsilon (around the rollout-time values)", &value_clip_eps);
  f.add("ppo.vf_coef", "weight of the value loss", &vf_coef);
  f.add("ppo.value_lr", "peak learning rate of the value head and a separate value body (0: train.lr)", &value_lr);
  f.add("ppo.gamma", "discount", &gamma);
  f.add("ppo.lam", "GAE lambda", &lam);
  f.add("ppo.init_kl_coef", "initial (or fixed) KL coefficient beta", &init_kl_coef);
  f.add("ppo.target_kl", "KL per reply the adaptive controller steers to (0: beta fixed)", &target_kl);
  f.add("ppo.kl_horizon", "adaptive controller horizon, in replies", &kl_horizon);
  f.add("ppo.whiten_advantages", "whiten advantages over each batch", &whiten_advantages);
  f.add("ppo.truncation", "add (score + penalty) or replace (score := penalty) for cut-off replies", &truncation);
  f.add("ppo.truncation_penalty", "penalty for a reply cut off without the end marker (0 with add: none)",
        &truncation_penalty);
  f.add("ppo.value_model", "head (on the policy's body) or separate (own body, from value_init)", &value_model);
  f.add("ppo.value_init", "separate value model: a reward model or model directory to start from", &value_init);
  reward.register_fields(f, "ppo");
}

void PpoConfig::validate(bool custom_reward) const {
  train.validate();
  auto need = [](bool ok, const char* key, const char* why) {
    if (!ok) throw Error(ErrorKind::invalid_argument, key, why);
  };
  need(rollouts_per_step >= 1, "ppo.rollouts_per_step", "must be >= 1");
  need(max_new_tokens >= 1, "ppo.max_new_tokens", "must be >= 1");
  need(temperature > 0, "ppo.temperature", "must be > 0");
  need(ppo_epochs >= 1, "ppo.ppo_epochs", "must be >= 1");
  need(minibatches >= 1 && minibatches <= rollouts_per_step, "ppo.minibatches",
       "must be in [1, ppo.rollouts_per_step]");
  need(clip_eps > 0 && clip_eps < 1, "ppo.clip_eps", "must be in (0, 1)");
  need(value_clip_eps > 0, "ppo.value_clip_eps", "must be > 0");
  need(vf_coef >= 0, "ppo.vf_coef", "must be >= 0");
  need(value_lr >= 0, "ppo.value_lr", "must be >= 0 (0: train.lr)");
  need(gamma >= 0 && gamma <= 1, "ppo.gamma", "must be in [0, 1]");
  need(lam >= 0 && lam <= 1, "ppo.lam", "must be in [0, 1]");
  need(init_kl_coef >= 0, "ppo.init_kl_coef", "must be >= 0");
  need(target_kl >= 0, "ppo.target_kl", "must be >= 0 (0: fixed coefficient)");
  need(kl_horizon > 0, "ppo.kl_horizon", "must be > 0");
  need(truncation == "add" || truncation == "replace", "ppo.truncation", "must be add or replace");
  need(value_model == "head" || value_model == "separate", "ppo.value_model", "must be head or separate");
  need(value_model == "head" || !value_init.empty(), "ppo.value_init",
       "value_model = separate needs a directory to start the value model from");
  need(value_model == "separate" || value_init.empty(), "ppo.value_init",
       "is only read with value_model = separate");
  if (!custom_reward) reward.validate("ppo");
}

namespace {

// The reply tokens of a batch of rollouts, flat: rollout i's are at
// [at[i], at[i] + n[i]).
struct ReplyTokens {
  std::vector<size_t> at, n;
  std::vector<float> old_logp, ref_logp;
  std::vector<double> old_value, advantage, ret;
};

// Rows of the packed batch b holding the reply positions of its samples,
// and where each sample's reply starts among them.
struct ReplyRows {
  std::vector<int64_t> rows;
  std::vector<size_t> start;
};
ReplyRows reply_rows(const PackedBatch& b, const std::vector<Rollout>& rs, std::span<const size_t> idx) {
  ReplyRows r;
  for (size_t k = 0; k < idx.size(); ++k) {
    const Rollout& ro = rs[idx[k]];
    r.start.push_back(r.rows.size());
    for (int64_t t = 0; t < ro.reply_tokens(); ++t) r.rows.push_back(b.first[k] + ro.reply_pos(t));
  }
  return r;
}

// The entropies of the policy's next-token distributions at `rows`, summed,
// from the full logits of m's last forward pass.
double entropy_sum(Transformer& m, std::span<const int64_t> rows) {
  const int64_t V = m.config().vocab;
  std::vector<float> logits(size_t(m.batch() * m.seq() * V));
  m.logits(logits.data());
  double total = 0;
  for (int64_t row : rows) {
    const float* z = logits.data() + row * V;
    float mx = z[0];
    for (int64_t v = 1; v < V; ++v) mx = std::max(mx, z[v]);
    double s = 0, sz = 0;
    for (int64_t v = 0; v < V; ++v) {
      const double e = std::exp(double(z[v] - mx));
      s += e, sz += e * double(z[v] - mx);
    }
    total += std::log(s) - sz / s;  // -sum p log p with p = e / s
  }
  return total;
}

// One minibatch's token losses, backward into the policy's (and the value
// model's) gradients: the clipped surrogate and vf_coef x the clipped value
// loss, each a mean over the minibatch's reply tokens. Returns the mean
// loss and the sums of the per-token terms for the log.
struct MinibatchLosses {
  double loss = 0, policy = 0, value = 0, clipped = 0, value_clipped = 0, approx_kl = 0;
};
MinibatchLosses minibatch_backward(FinetuneModel& fm, ValueModel& vm, const std::vector<Rollout>& rs,
                                   const ReplyTokens& tok, std::span<const size_t> which, const PpoConfig& cfg) {
  Transformer& m = fm.model();
  const AlignTrainSettings& t = cfg.train;
  double n_tokens = 0;
  for (size_t i : which) n_tokens += double(tok.n[i]);
  MinibatchLosses out;
  auto step = [&](const PackedBatch& b, std::span<const size_t> idx) {
    m.forward(b.inputs.data(), b.B, b.T, b.seg_lens);
    std::vector<float> lp(b.inputs.size()), grad(b.inputs.size(), 0.0f);
    m.token_logprobs(b.targets.data(), lp.data());
    const ReplyRows rr = reply_rows(b, rs, idx);
    const std::vector<float> v = vm.values(b, rr.rows);
    std::vector<float> dv(v.size());
    for (size_t k = 0; k < idx.size(); ++k)
      for (size_t j = 0; j < tok.n[idx[k]]; ++j) {
        const size_t row = rr.start[k] + j, flat = tok.at[idx[k]] + j, at = size_t(rr.rows[row]);
        const TokenLoss pl =
            clipped_surrogate(lp[at], tok.old_logp[flat], tok.advantage[flat], cfg.clip_eps, cfg.clip_eps);
        const ValueLoss vl = clipped_value_loss(v[row], tok.old_value[flat], tok.ret[flat], cfg.value_clip_eps);
        grad[at] = float(pl.d_logp / n_tokens);
        dv[row] = float(cfg.vf_coef * vl.d_value / n_tokens);
        out.loss += (pl.loss + cfg.vf_coef * vl.loss) / n_tokens;
        out.policy += pl.loss, out.value += vl.loss, out.clipped += pl.clipped, out.value_clipped += vl.clipped;
        const double d = double(lp[at]) - double(tok.old_logp[flat]);
        out.approx_kl += 0.5 * d * d;
      }
    vm.backward(rr.rows, dv);  // a head on the policy: into m.hidden_grad(), before the body's backward
    m.logprob_backward(b.targets.data(), grad.data());
  };
  for_each_packed(rs, which, t.seq_len, t.batch_rows, fm.pad_id(), step);
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

PpoResult run_ppo(const PpoConfig& cfg, const PpoOptions& options) {
  cfg.validate(bool(options.reward));
  const auto& t = cfg.train;
  t.apply_threads();
  FinetuneModel fm(cfg.model, uint64_t(t.seed));
  Transformer& m = fm.model();
  SHOG_CHECK(t.seq_len <= m.config().max_seq, ErrorKind::invalid_argument, "train.seq_len",
             "{} exceeds the model's context of {}", t.seq_len, m.config().max_seq);
  const auto prompts = read_prompts(t.train_data);
  SHOG_CHECK(!prompts.empty(), ErrorKind::invalid_argument, t.train_data, "no prompts");
  RolloutRewarder rewarder(cfg.reward, "ppo", prompts, t.train_data, options.reward);
  ReferencePolicy ref(fm);
  std::unique_ptr<ValueModel> vm = cfg.value_model == "head"
                                       ? std::make_unique<ValueModel>(m)
                                       : std::make_unique<ValueModel>(cfg.value_init, m.compute_dtype(), m.config(),
                                                                      t.seq_len);
  const int64_t P = cfg.rollouts_per_step;
  const int64_t total = rollout_steps(t, prompts.size(), P);
  AdamWOptimizer opt(fm.train_table(), t.hyper());
  ops::AdamWHyper head_hyper = t.hyper();
  head_hyper.weight_decay = 0;
  AdamWOptimizer head_opt(vm->head().table(), head_hyper);
  std::unique_ptr<AdamWOptimizer> vbody_opt;
  if (vm->separate()) vbody_opt = std::make_unique<AdamWOptimizer>(vm->body().table(), t.hyper());
  const LrSchedule sched = t.schedule_for(total * cfg.ppo_epochs * cfg.minibatches);
  const double value_lr_scale = cfg.value_lr > 0 ? cfg.value_lr / t.lr : 1.0;  // same schedule, own peak
  KlController kl_ctl(cfg.init_kl_coef, cfg.target_kl, cfg.kl_horizon);
  make_dirs(t.out_dir);
  MetricsLog metrics(t.out_dir + "/metrics.jsonl");
  ProgressLine progress(total, t.log_every, t.progress);
  std::fprintf(stderr,
               "ppo: %zu prompts, %lld steps of %lld rollouts x %lld epochs x %lld minibatches, reward %s, "
               "value %s, KL %s, %s\n",
               prompts.size(), (long long)total, (long long)P, (long long)cfg.ppo_epochs, (long long)cfg.minibatches,
               options.reward ? "custom" : cfg.reward.kind.c_str(), cfg.value_model.c_str(),
               kl_ctl.adaptive() ? "adaptive" : "fixed", fm.adapter() ? "LoRA" : "full");

  PromptCycle cycle(prompts.size(), uint64_t(t.seed) * 7919 + 1);
  Rng shuffle_rng(uint64_t(t.seed) * 104729 + 5);
  PpoResult res;
  res.prompts = int64_t(prompts.size());
  std::vector<double> step_scores;
  const auto run_start = std::chrono::steady_clock::now();
  int64_t opt_step = 0;
  for (int64_t step = 0; step < total; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    // 1. Rollouts: one reply per prompt, all in one engine run.
    RolloutSampling rsm{1, cfg.max_new_tokens, cfg.temperature, t.seq_len,
                        uint64_t(t.seed) * 1000003 + uint64_t(step) * 4099};
    std::vector<Rollout> rs = sample_rollouts(fm, prompts, cycle.next(P), rsm);
    const double gen_s = seconds_since(t0);

    // 2. Scores; the policy's old log-probs, entropy and (head) values; the
    // reference's log-probs; a separate value model's values.
    const auto t1 = std::chrono::steady_clock::now();
    const std::vector<ReplyScore> scores = rewarder.score(rs);
    ReplyTokens tok;
    for (auto& r : rs) {
      tok.at.push_back(tok.old_value.size());
      tok.n.push_back(size_t(r.reply_tokens()));
      tok.old_value.resize(tok.old_value.size() + size_t(r.reply_tokens()));
    }
    auto store_values = [&](const ReplyRows& rr, std::span<const size_t> idx, const std::vector<float>& v) {
      for (size_t k = 0; k < idx.size(); ++k)
        for (size_t j = 0; j < tok.n[idx[k]]; ++j) tok.old_value[tok.at[idx[k]] + j] = v[rr.start[k] + j];
    };
    double entropy = 0;
    m.set_training(false);
    reply_logps(m, rs, t.seq_len, t.batch_rows, fm.pad_id(), &Rollout::old_logp,
                [&](const PackedBatch& b, std::span<const size_t> idx) {
                  const ReplyRows rr = reply_rows(b, rs, idx);
                  entropy += entropy_sum(m, rr.rows);
                  if (!vm->separate()) store_values(rr, idx, vm->values(b, rr.rows));
                });
    if (vm->separate())
      for_each_packed(rs, t.seq_len, t.batch_rows, fm.pad_id(), [&](const PackedBatch& b, std::span<const size_t> idx) {
        const ReplyRows rr = reply_rows(b, rs, idx);
        store_values(rr, idx, vm->values(b, rr.rows));
      });
    ref.logps(rs, t.seq_len, t.batch_rows);

    // 3. Shaped rewards, GAE, whitened advantages.
    const double beta = kl_ctl.coef();
    double mean_score = 0, mean_reward = 0, mean_kl = 0, acc = 0, refused = 0, trunc = 0;
    for (size_t i = 0; i < rs.size(); ++i) {
      const Rollout& r = rs[i];
      const auto at = r.old_logp.begin() + r.reply_pos(0);
      tok.old_logp.insert(tok.old_logp.end(), at, at + r.reply_tokens());
      const auto ref_at = r.ref_logp.begin() + r.reply_pos(0);
      tok.ref_logp.insert(tok.ref_logp.end(), ref_at, ref_at + r.reply_tokens());
      const std::span<const float> lp(&tok.old_logp[tok.at[i]], tok.n[i]), rl(&tok.ref_logp[tok.at[i]], tok.n[i]);
      double score = scores[i].score;
      if (r.truncated) score = cfg.truncation == "replace" ? cfg.truncation_penalty : score + cfg.truncation_penalty;
      double kl = 0;
      for (size_t j = 0; j < lp.size(); ++j) kl += double(lp[j]) - double(rl[j]);
      const std::vector<double> rewards = kl_shaped_rewards(lp, rl, score, beta);
      const std::span<const double> values(&tok.old_value[tok.at[i]], tok.n[i]);
      const GaeResult g = gae(rewards, values, cfg.gamma, cfg.lam);
      tok.advantage.insert(tok.advantage.end(), g.advantages.begin(), g.advantages.end());
      tok.ret.insert(tok.ret.end(), g.returns.begin(), g.returns.end());
      mean_score += scores[i].score, mean_reward += score - beta * kl, mean_kl += kl;
      acc += scores[i].correct, refused += scores[i].refused, trunc += r.truncated;
    }
    const double n_roll = double(rs.size());
    mean_score /= n_roll, mean_reward /= n_roll, mean_kl /= n_roll, acc /= n_roll, refused /= n_roll, trunc /= n_roll;
    const double n_tokens = double(tok.old_value.size());
    entropy /= n_tokens;
    const double expl_var = explained_variance(tok.old_value, tok.ret);
    if (cfg.whiten_advantages) tok.advantage = whiten(tok.advantage);
    const double score_s = seconds_since(t1);

    // 4. ppo_epochs passes over the rollouts in shuffled minibatches, one
    // AdamW step each (policy, value head, separate value body).
    const auto t2 = std::chrono::steady_clock::now();
    double pg_loss = 0, v_loss = 0, clip_frac = 0, vclip_frac = 0, approx_kl = 0, gnorm = 0;
    m.set_training(true);
    std::vector<size_t> order(rs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (int64_t epoch = 0; epoch < cfg.ppo_epochs; ++epoch) {
      for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[size_t(shuffle_rng.next_u64() % i)]);
      for (int64_t mb = 0; mb < cfg.minibatches; ++mb) {
        const size_t lo = size_t(mb) * order.size() / size_t(cfg.minibatches),
                     hi = size_t(mb + 1) * order.size() / size_t(cfg.minibatches);
        const std::span<const size_t> which(order.data() + lo, hi - lo);
        fm.zero_grad();
        vm->zero_grad();
        const MinibatchLosses l = minibatch_backward(fm, *vm, rs, tok, which, cfg);
        SHOG_CHECK(std::isfinite(l.loss), ErrorKind::numeric, fmt::format("ppo step {}", step + 1),
                   "loss is {}; stopping without saving", l.loss);
        pg_loss += l.policy, v_loss += l.value, clip_frac += l.clipped, vclip_frac += l.value_clipped;
        approx_kl += l.approx_kl;
        const double lr = sched.at(opt_step), vlr = lr * value_lr_scale;
        gnorm += opt.step(fm.train_params(), fm.train_grads(), lr, float(t.grad_clip), fm.train_params16());
        head_opt.step(vm->head().params(), vm->head().grads(), vlr, float(t.grad_clip));
        if (vbody_opt)
          vbody_opt->step(vm->body().params(), vm->body().grads(), vlr, float(t.grad_clip), vm->body().params16());
        ++opt_step;
      }
    }
    const double updates = double(cfg.ppo_epochs * cfg.minibatches), seen = n_tokens * double(cfg.ppo_epochs);
    pg_loss /= seen, v_loss /= seen, clip_frac /= seen, vclip_frac /= seen, approx_kl /= seen, gnorm /= updates;
    const double train_s = seconds_since(t2);

    // 5. Adapt beta to the KL just measured; log.
    kl_ctl.update(mean_kl, int64_t(rs.size()));
    const double secs = seconds_since(t0);
    nlohmann::json row = {{"step", step + 1},           {"score", mean_score},        {"reward", mean_reward},
                          {"kl", mean_kl},              {"kl_coef", beta},            {"entropy", entropy},
                          {"policy_loss", pg_loss},     {"value_loss", v_loss},       {"clip_fraction", clip_frac},
                          {"value_clip_fraction", vclip_frac}, {"approx_kl", approx_kl},
                          {"reply_tokens", n_tokens / n_roll}, {"truncated", trunc}, {"grad_norm", gnorm},
                          {"lr", sched.at(opt_step - 1)}, {"generate_s", gen_s},      {"score_s", score_s},
                          {"train_s", train_s},         {"step_s", secs}};
    if (std::isfinite(expl_var)) row["explained_variance"] = expl_var;
    if (rewarder.uses_checker()) row["accuracy"] = acc, row["refusal_rate"] = refused;
    metrics.append(row);
    progress.show(step + 1,
                  fmt::format("score {:.3f} | kl {:.3f} | beta {:.4f} | vloss {:.4f} | ev {:.2f} | gen {:.1f}s "
                              "train {:.1f}s",
                              mean_score, mean_kl, beta, v_loss, expl_var, gen_s, train_s),
                  secs);
    step_scores.push_back(mean_score);
    res.final_kl = mean_kl;
    res.generate_seconds += gen_s, res.score_seconds += score_s, res.train_seconds += train_s;
    res.steps = step + 1;
  }
  res.kl_coef = kl_ctl.coef();
  const StartEnd trend = start_and_end_means(step_scores);
  res.first_score = trend.start, res.final_score = trend.end;
  res.seconds = seconds_since(run_start);
  fm.save(t.out_dir);
  vm->save(t.out_dir);
  plot_metrics(t.out_dir + "/ppo.svg", "shoggoth ppo", "score / reward / KL", metrics.rows(),
               {{"score", "mean score", "#1f77b4"}, {"reward", "mean reward", "#2ca02c"},
                {"kl", "KL per reply", "#d62728"}});
  return res;
}

}  // namespace shog
