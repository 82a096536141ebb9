// DPO (Rafailov et al. 2023) and IPO (Azar et al. 2023):
//   z = [log pi(y_c|x) - log pi(y_r|x)] - [log ref(y_c|x) - log ref(y_r|x)]
//   sigmoid: L = -(1-eps) log sigmoid(beta z) - eps log sigmoid(-beta z);  ipo: L = (z - 1/(2 beta))^2
// log pi(y|x) sums the reply's token log-probs (the continuation after the
// prompt; earlier assistant turns inside the prompt do not count). Per step:
// pack whole pairs, forward, per-token log-probs, the loss per pair, and the
// backward from dL/dlogp_t = dL/dlog pi(y) on each reply token.
#include "align/dpo.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "align/packing.h"
#include "align/preference_loss.h"
#include "core/error.h"
#include "core/file_io.h"
#include "data/records.h"
#include "train/adamw_optimizer.h"
#include "train/run_log.h"

namespace shog {

void DpoConfig::register_fields(ConfigFields& f) {
  model.register_fields(f);
  train.register_fields(f);
  neftune.register_fields(f);
  f.add("dpo.beta", "beta: strength of the leash to the reference", &beta);
  f.add("dpo.loss", "loss: sigmoid (DPO) or ipo", &loss);
  f.add("dpo.label_smoothing", "label smoothing eps for the sigmoid loss (conservative DPO)", &label_smoothing);
}

namespace {

struct DpoPair {
  TokenizedSample chosen, rejected;
  double ref_chosen = 0, ref_rejected = 0;
};

// The reply's tokens only: render(prompt + reply) with the mask cleared over
// the prompt's own rendering, which is its prefix.
TokenizedSample render_reply(const ChatTemplate& chat, const Messages& prompt, const Messages& reply,
                             const std::string& where) {
  Messages all = prompt;
  all.insert(all.end(), reply.begin(), reply.end());
  RenderedChat r = chat.render(all), p = chat.render(prompt);
  SHOG_CHECK(p.ids.size() <= r.ids.size() && std::equal(p.ids.begin(), p.ids.end(), r.ids.begin()),
             ErrorKind::internal, where, "the prompt's rendering is not a prefix of the conversation's");
  for (size_t i = 0; i < p.ids.size(); ++i) r.mask[i] = 0;
  return {std::move(r.ids), std::move(r.mask)};
}

std::vector<DpoPair> load_pairs(const std::string& path, const ChatTemplate& chat, int64_t T, int64_t& skipped) {
  std::vector<DpoPair> out;
  for (auto& p : read_preferences(path)) {
    DpoPair d{render_reply(chat, p.prompt, p.chosen, path), render_reply(chat, p.prompt, p.rejected, path)};
    if (!fits(d.chosen, T, PackMode::next_token) || !fits(d.rejected, T, PackMode::next_token)) {
      ++skipped;
      continue;
    }
    out.push_back(std::move(d));
  }
  return out;
}

constexpr PackMode kMode = PackMode::next_token;

// Forward and the summed reply log-prob of every sample of the batch.
std::vector<double> sequence_logps(Transformer& m, const PackedBatch& b) {
  m.forward(b.inputs.data(), b.B, b.T, b.seg_lens);
  std::vector<float> logp(b.inputs.size());
  m.token_logprobs(b.targets.data(), logp.data());
  std::vector<double> out(b.first.size(), 0.0);
  for (size_t i = 0; i < out.size(); ++i)
    for (int64_t j = b.first[i]; j <= b.last(i); ++j) out[i] += double(logp[size_t(j)]) * b.weights[size_t(j)];
  return out;
}

std::vector<std::vector<size_t>> in_order(const std::vector<DpoPair>& pairs, const AlignTrainSettings& t) {
  std::vector<size_t> order(pairs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  return plan_batches(pair_lengths(pairs, kMode), order, t.seq_len, t.batch_rows);
}

void compute_reference(Transformer& m, std::vector<DpoPair>& pairs, const AlignTrainSettings& t, int32_t pad) {
  for (auto& g : in_order(pairs, t)) {
    auto lp = sequence_logps(m, pack_pairs(pairs, g, t.seq_len, kMode, pad));
    for (size_t k = 0; k < g.size(); ++k) pairs[g[k]].ref_chosen = lp[2 * k], pairs[g[k]].ref_rejected = lp[2 * k + 1];
  }
}

struct Stats {
  double loss = 0, acc = 0, margin = 0, chosen = 0, rejected = 0;
  void add(const DpoConfig& c, double pc, double pr, const DpoPair& p, double loss_, double w) {
    const double rc = c.beta * (pc - p.ref_chosen), rr = c.beta * (pr - p.ref_rejected);
    loss += loss_ * w, acc += (rc > rr) * w, margin += (rc - rr) * w, chosen += rc * w, rejected += rr * w;
  }
};

}  // namespace

DpoResult run_dpo(const DpoConfig& cfg) {
  const auto& t = cfg.train;
  t.validate();
  cfg.neftune.validate();
  t.apply_threads();
  const DpoLossKind kind = parse_dpo_loss(cfg.loss, "dpo.loss");
  SHOG_CHECK(cfg.beta > 0 && std::isfinite(cfg.beta), ErrorKind::invalid_argument, "dpo.beta", "must be > 0");
  SHOG_CHECK(cfg.label_smoothing >= 0 && cfg.label_smoothing < 0.5, ErrorKind::invalid_argument,
             "dpo.label_smoothing", "must be in [0, 0.5)");
  FinetuneModel fm(cfg.model, uint64_t(t.seed));
  Transformer& m = fm.model();
  cfg.neftune.apply(m, uint64_t(t.seed));
  SHOG_CHECK(t.seq_len <= m.config().max_seq, ErrorKind::invalid_argument, "train.seq_len",
             "{} exceeds the model's context of {}", t.seq_len, m.config().max_seq);
  DpoResult res;
  auto train = load_pairs(t.train_data, fm.chat(), t.seq_len, res.skipped);
  SHOG_CHECK(!train.empty(), ErrorKind::invalid_argument, t.train_data, "no usable preference pair");
  int64_t vskipped = 0;
  std::vector<DpoPair> val;
  if (!t.val_data.empty()) val = load_pairs(t.val_data, fm.chat(), t.seq_len, vskipped);
  res.pairs = int64_t(train.size());

  // The starting model is the reference: its log-probs, once, in eval mode.
  m.set_training(false);
  const auto ref_start = std::chrono::steady_clock::now();
  compute_reference(m, train, t, fm.pad_id());
  compute_reference(m, val, t, fm.pad_id());
  std::fprintf(stderr, "dpo: %zu pairs (%lld skipped), reference log-probs cached in %.1fs; %s loss, beta %g, %s\n",
               train.size(), (long long)res.skipped,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - ref_start).count(), cfg.loss.c_str(),
               cfg.beta, fm.adapter() ? "LoRA" : "full");

  PackedEpochs epochs(pair_lengths(train, kMode), t.seq_len, t.batch_rows, uint64_t(t.seed));
  const int64_t total = t.total_steps(epochs.groups_per_epoch());
  AdamWOptimizer opt(fm.train_table(), t.hyper());
  const LrSchedule sched = t.schedule_for(total);
  make_dirs(t.out_dir);
  MetricsLog metrics(t.out_dir + "/metrics.jsonl");
  ProgressLine progress(total, t.log_every, t.progress);
  m.set_training(true);
  const auto run_start = std::chrono::steady_clock::now();

  auto validate = [&] {
    Stats s;
    m.set_training(false);
    for (auto& g : in_order(val, t)) {
      auto lp = sequence_logps(m, pack_pairs(val, g, t.seq_len, kMode, fm.pad_id()));
      for (size_t k = 0; k < g.size(); ++k) {
        const DpoPair& p = val[g[k]];
        PairLoss pl = dpo_loss(kind, cfg.beta, cfg.label_smoothing, lp[2 * k], lp[2 * k + 1], p.ref_chosen,
                               p.ref_rejected);
        s.add(cfg, lp[2 * k], lp[2 * k + 1], p, pl.loss, 1.0 / double(val.size()));
      }
    }
    m.set_training(true);
    return s;
  };

  for (int64_t step = 0; step < total; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::vector<size_t>> groups;
    size_t n_pairs = 0;
    for (int64_t a = 0; a < t.grad_accum; ++a) groups.push_back(epochs.next()), n_pairs += groups.back().size();
    fm.zero_grad();
    Stats s;
    double logp_c = 0, logp_r = 0;
    for (auto& g : groups) {
      PackedBatch b = pack_pairs(train, g, t.seq_len, kMode, fm.pad_id());
      auto lp = sequence_logps(m, b);
      std::vector<float> grad(b.inputs.size(), 0.0f);
      for (size_t k = 0; k < g.size(); ++k) {
        const DpoPair& p = train[g[k]];
        PairLoss pl =
            dpo_loss(kind, cfg.beta, cfg.label_smoothing, lp[2 * k], lp[2 * k + 1], p.ref_chosen, p.ref_rejected);
        const double w = 1.0 / double(n_pairs);
        s.add(cfg, lp[2 * k], lp[2 * k + 1], p, pl.loss, w);
        logp_c += lp[2 * k] * w, logp_r += lp[2 * k + 1] * w;
        for (int side = 0; side < 2; ++side) {
          const size_t i = 2 * k + size_t(side);
          const double d = (side == 0 ? pl.d_first : pl.d_second) * w;
          for (int64_t j = b.first[i]; j <= b.last(i); ++j) grad[size_t(j)] = float(d * b.weights[size_t(j)]);
        }
      }
      m.logprob_backward(b.targets.data(), grad.data());
    }
    SHOG_CHECK(std::isfinite(s.loss), ErrorKind::numeric, fmt::format("dpo step {}", step + 1),
               "loss is {}; stopping without saving", s.loss);
    const double lr = sched.at(step);
    const double gnorm = opt.step(fm.train_params(), fm.train_grads(), lr, float(t.grad_clip), fm.train_params16());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    res.final_loss = s.loss;
    metrics.append({{"step", step + 1}, {"loss", s.loss}, {"rewards/chosen", s.chosen},
                    {"rewards/rejected", s.rejected}, {"rewards/accuracies", s.acc}, {"rewards/margins", s.margin},
                    {"logps/chosen", logp_c}, {"logps/rejected", logp_r}, {"lr", lr}, {"grad_norm", gnorm}});
    std::string line = fmt::format("loss {:.4f} | acc {:.3f} | margin {:.3f} | lr {:.2e}", s.loss, s.acc, s.margin, lr);
    if (!val.empty() && (step + 1 == total || (t.val_every > 0 && (step + 1) % t.val_every == 0))) {
      Stats v = validate();
      res.val_loss = v.loss, res.val_accuracy = v.acc, res.val_margin = v.margin;
      metrics.append({{"step", step + 1}, {"val_loss", v.loss}, {"val_rewards/accuracies", v.acc},
                      {"val_rewards/margins", v.margin}});
      line += fmt::format(" | val acc {:.3f}", v.acc);
    }
    progress.show(step + 1, line, secs);
    res.steps = step + 1;
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
  fm.save(t.out_dir);
  plot_metrics(t.out_dir + "/dpo.svg", "shoggoth dpo", "loss / implicit reward margin", metrics.rows(),
               {{"loss", "train loss", "#1f77b4"},
                {"rewards/margins", "train margin", "#ff7f0e"},
                {"val_rewards/margins", "validation margin", "#d62728"},
                {"val_rewards/accuracies", "validation accuracy", "#2ca02c"}});
  return res;
}

}  // namespace shog
