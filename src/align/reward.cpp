// Reward model training (InstructGPT, Ouyang et al. 2022, section 3.5):
//   L = -log sigmoid(r(x, y_c) - r(x, y_r) - m),  r = w . h_last + b
// where h_last is the final hidden state at the reply's last token (<|end|>).
// Per step: pack whole pairs (both sides in one micro-batch), forward, the
// head at each sample's last row, the loss per pair, the head's backward into
// the hidden-state gradient, then the body's backward.
#include "align/reward.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "align/packing.h"
#include "align/preference_loss.h"
#include "core/error.h"
#include "core/file_io.h"
#include "interop/model_dir.h"
#include "train/adamw_optimizer.h"
#include "train/run_log.h"

namespace shog {

void RewardConfig::register_fields(ConfigFields& f) {
  model.register_fields(f);
  train.register_fields(f);
  neftune.register_fields(f);
  f.add("reward.margin", "margin m in -log sigmoid(r_c - r_r - m) (a pair's \"margin\" field overrides)", &margin);
}

namespace {

struct PairSamples {
  TokenizedSample chosen, rejected;
  double margin;
};

Messages concat(const Messages& a, const Messages& b) {
  Messages m = a;
  m.insert(m.end(), b.begin(), b.end());
  return m;
}

std::vector<PairSamples> load_pairs(const std::string& path, const ChatTemplate& chat, int64_t T, double margin,
                                    int64_t& skipped) {
  std::vector<PairSamples> out;
  for (auto& p : read_preferences(path)) {
    auto c = chat.render(concat(p.prompt, p.chosen)), r = chat.render(concat(p.prompt, p.rejected));
    PairSamples s{{std::move(c.ids), std::move(c.mask)}, {std::move(r.ids), std::move(r.mask)},
                  p.meta.is_object() && p.meta.contains("margin") && p.meta["margin"].is_number()
                      ? p.meta["margin"].get<double>()
                      : margin};
    if (!fits(s.chosen, T, PackMode::whole) || !fits(s.rejected, T, PackMode::whole)) {
      ++skipped;
      continue;
    }
    out.push_back(std::move(s));
  }
  return out;
}

// Scores of a packed batch: the head at each sample's last token.
std::vector<float> score_batch(Transformer& m, LinearHead& head, const PackedBatch& b) {
  m.forward(b.inputs.data(), b.B, b.T, b.seg_lens);
  std::vector<int64_t> rows(b.first.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = b.last(i);
  std::vector<float> r(rows.size());
  head.forward(m.hidden(), rows, r.data());
  return r;
}

struct PairEval {
  double loss = 0, accuracy = 0;
};

PairEval evaluate(Transformer& m, LinearHead& head, const std::vector<PairSamples>& pairs,
                  const AlignTrainSettings& t, int32_t pad) {
  std::vector<size_t> order(pairs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  PairEval e;
  const bool was = m.training();
  m.set_training(false);
  for (auto& g : plan_batches(pair_lengths(pairs, PackMode::whole), order, t.seq_len, t.batch_rows)) {
    auto r = score_batch(m, head, pack_pairs(pairs, g, t.seq_len, PackMode::whole, pad));
    for (size_t k = 0; k < g.size(); ++k) {
      e.loss += bradley_terry_loss(r[2 * k], r[2 * k + 1], pairs[g[k]].margin).loss;
      e.accuracy += r[2 * k] > r[2 * k + 1];
    }
  }
  m.set_training(was);
  e.loss /= double(pairs.size());
  e.accuracy /= double(pairs.size());
  return e;
}

}  // namespace

RewardResult run_reward(const RewardConfig& cfg) {
  const auto& t = cfg.train;
  t.validate();
  cfg.neftune.validate();
  t.apply_threads();
  FinetuneModel fm(cfg.model, uint64_t(t.seed));
  Transformer& m = fm.model();
  cfg.neftune.apply(m, uint64_t(t.seed));
  SHOG_CHECK(t.seq_len <= m.config().max_seq, ErrorKind::invalid_argument, "train.seq_len",
             "{} exceeds the model's context of {}", t.seq_len, m.config().max_seq);
  RewardResult res;
  auto train = load_pairs(t.train_data, fm.chat(), t.seq_len, cfg.margin, res.skipped);
  SHOG_CHECK(!train.empty(), ErrorKind::invalid_argument, t.train_data, "no usable preference pair");
  int64_t vskipped = 0;
  std::vector<PairSamples> val;
  if (!t.val_data.empty()) val = load_pairs(t.val_data, fm.chat(), t.seq_len, cfg.margin, vskipped);
  res.pairs = int64_t(train.size());

  const int64_t C = m.config().d_model;
  LinearHead head(C, 1);
  head.init(uint64_t(t.seed) + 7, float(1.0 / std::sqrt(double(C + 1))));
  PackedEpochs epochs(pair_lengths(train, PackMode::whole), t.seq_len, t.batch_rows, uint64_t(t.seed));
  const int64_t total = t.total_steps(epochs.groups_per_epoch());
  AdamWOptimizer opt(fm.train_table(), t.hyper());
  ops::AdamWHyper hh = t.hyper();
  hh.weight_decay = 0;
  AdamWOptimizer head_opt(head.table(), hh);
  const LrSchedule sched = t.schedule_for(total);
  std::fprintf(stderr, "reward: %zu pairs (%lld skipped: longer than %lld tokens), %lld steps, %s\n", train.size(),
               (long long)res.skipped, (long long)t.seq_len, (long long)total, fm.adapter() ? "LoRA" : "full");

  make_dirs(t.out_dir);
  MetricsLog metrics(t.out_dir + "/metrics.jsonl");
  ProgressLine progress(total, t.log_every, t.progress);
  m.set_training(true);
  const auto run_start = std::chrono::steady_clock::now();
  for (int64_t step = 0; step < total; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::vector<size_t>> groups;
    size_t n_pairs = 0;
    for (int64_t a = 0; a < t.grad_accum; ++a) groups.push_back(epochs.next()), n_pairs += groups.back().size();
    fm.zero_grad();
    head.zero_grad();
    double loss = 0, acc = 0;
    for (auto& g : groups) {
      PackedBatch b = pack_pairs(train, g, t.seq_len, PackMode::whole, fm.pad_id());
      auto r = score_batch(m, head, b);
      std::vector<float> dr(r.size());
      for (size_t k = 0; k < g.size(); ++k) {
        PairLoss pl = bradley_terry_loss(r[2 * k], r[2 * k + 1], train[g[k]].margin);
        loss += pl.loss / double(n_pairs);
        acc += (r[2 * k] > r[2 * k + 1]) / double(n_pairs);
        dr[2 * k] = float(pl.d_first / double(n_pairs));
        dr[2 * k + 1] = float(pl.d_second / double(n_pairs));
      }
      std::vector<int64_t> rows(r.size());
      for (size_t i = 0; i < rows.size(); ++i) rows[i] = b.last(i);
      head.backward(m.hidden(), rows, dr.data(), m.hidden_grad());
      m.backward();
    }
    SHOG_CHECK(std::isfinite(loss), ErrorKind::numeric, fmt::format("reward step {}", step + 1),
               "loss is {}; stopping without saving", loss);
    const double lr = sched.at(step);
    const double gnorm = opt.step(fm.train_params(), fm.train_grads(), lr, float(t.grad_clip), fm.train_params16());
    head_opt.step(head.params(), head.grads(), lr, float(t.grad_clip));
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    res.final_loss = loss;
    metrics.append({{"step", step + 1}, {"loss", loss}, {"accuracy", acc}, {"lr", lr}, {"grad_norm", gnorm}});
    std::string line = fmt::format("loss {:.4f} | acc {:.3f} | lr {:.2e}", loss, acc, lr);
    if (!val.empty() && (step + 1 == total || (t.val_every > 0 && (step + 1) % t.val_every == 0))) {
      PairEval e = evaluate(m, head, val, t, fm.pad_id());
      res.val_loss = e.loss;
      res.val_accuracy = e.accuracy;
      metrics.append({{"step", step + 1}, {"val_loss", e.loss}, {"val_accuracy", e.accuracy}});
      line += fmt::format(" | val acc {:.3f}", e.accuracy);
    }
    progress.show(step + 1, line, secs);
    res.steps = step + 1;
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
  fm.save(t.out_dir);
  head.save(t.out_dir + "/score.safetensors");
  nlohmann::json meta = {{"format", "shoggoth.reward_model"}, {"version", 1}, {"head", "score.safetensors"},
                         {"score_at", "last token"}};
  if (fm.adapter()) meta["base"] = std::filesystem::absolute(cfg.model.init).string();
  write_file_atomic(t.out_dir + "/reward.json", meta.dump(2) + "\n");
  plot_metrics(t.out_dir + "/reward.svg", "shoggoth reward", "Bradley-Terry loss / accuracy", metrics.rows(),
               {{"loss", "train loss", "#1f77b4"},
                {"val_loss", "validation loss", "#d62728"},
                {"val_accuracy", "validation accuracy", "#2ca02c"}});
  return res;
}

RewardModel RewardModel::load(const std::string& dir, DType dt) {
  const std::string meta_path = dir + "/reward.json";
  SHOG_CHECK(file_exists(meta_path), ErrorKind::invalid_argument, dir,
             "is not a reward model directory (no reward.json; train one with `shoggoth reward`)");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(read_file(meta_path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::bad_input, meta_path, e.what());
  }
  RewardModel r;
  const bool lora = meta.contains("base");
  ModelDir body = load_model_dir(lora ? meta["base"].get<std::string>() : dir);
  r.model_ = std::make_unique<Transformer>(body.config, dt);
  std::memcpy(r.model_->params(), body.params.data(), body.params.size() * sizeof(float));
  r.model_->sync_compute_weights();
  if (lora) {
    r.lora_ = std::make_unique<LoraAdapter>(LoraAdapter::load(dir, body.config));
    r.model_->attach_lora(r.lora_.get());
  }
  r.head_ = std::make_unique<LinearHead>(LinearHead::load(dir + "/" + meta.value("head", "score.safetensors")));
  SHOG_CHECK(r.head_->d_model() == body.config.d_model && r.head_->n_out() == 1, ErrorKind::bad_input,
             dir + "/score.safetensors", "head does not fit the model (d_model {})", body.config.d_model);
  std::string tok_path = dir + "/tokenizer.json";
  r.tok_ = std::make_unique<Tokenizer>(file_exists(tok_path) ? Tokenizer::load(tok_path) : *body.tokenizer);
  r.chat_ = std::make_unique<ChatTemplate>(*r.tok_);
  if (auto ids = find_special_ids(*r.tok_); ids.pad) r.pad_ = *ids.pad;
  return r;
}

std::vector<double> RewardModel::score(const std::vector<Messages>& convs, int64_t seq_len) {
  const int64_t T = seq_len > 0 ? std::min(seq_len, model_->config().max_seq) : model_->config().max_seq;
  std::vector<TokenizedSample> samples(convs.size());
  std::vector<std::vector<int64_t>> lens;
  std::vector<size_t> order;
  for (size_t i = 0; i < convs.size(); ++i) {
    auto rc = chat_->render(convs[i]);
    samples[i] = {std::move(rc.ids), std::move(rc.mask)};
    if (!fits(samples[i], T, PackMode::whole)) continue;  // too long: NaN
    order.push_back(lens.size());
    lens.push_back({int64_t(samples[i].ids.size())});
  }
  std::vector<size_t> index;  // lens entry -> conversation
  for (size_t i = 0; i < convs.size(); ++i)
    if (fits(samples[i], T, PackMode::whole)) index.push_back(i);
  std::vector<double> out(convs.size(), std::nan(""));
  for (auto& g : plan_batches(lens, order, T, 8)) {
    std::vector<const TokenizedSample*> ptrs;
    for (size_t k : g) ptrs.push_back(&samples[index[k]]);
    auto r = score_batch(*model_, *head_, pack_samples(ptrs, T, PackMode::whole, pad_));
    for (size_t k = 0; k < g.size(); ++k) out[index[g[k]]] = r[k];
  }
  return out;
}

std::vector<double> RewardModel::score_pairs(const std::vector<PreferencePair>& pairs) {
  std::vector<Messages> convs;
  convs.reserve(2 * pairs.size());
  for (const auto& p : pairs) {
    Messages c = p.prompt, r = p.prompt;
    c.insert(c.end(), p.chosen.begin(), p.chosen.end());
    r.insert(r.end(), p.rejected.begin(), p.rejected.end());
    convs.push_back(std::move(c)), convs.push_back(std::move(r));
  }
  return score(convs);
}

PairAccuracy pair_accuracy(const std::vector<double>& s) {
  PairAccuracy a;
  for (size_t i = 0; i + 1 < s.size(); i += 2)
    if (!std::isnan(s[i]) && !std::isnan(s[i + 1])) ++a.scored, a.correct += s[i] > s[i + 1];
  return a;
}

std::vector<std::pair<std::string, PairAccuracy>> pair_accuracy_by(const std::vector<PreferencePair>& pairs,
                                                                   const std::vector<double>& s,
                                                                   const std::vector<std::string>& fields) {
  SHOG_CHECK(s.size() == 2 * pairs.size(), ErrorKind::internal, "pair accuracy", "{} scores for {} pairs", s.size(),
             pairs.size());
  std::vector<std::pair<std::string, PairAccuracy>> groups;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < pairs.size(); ++i) {
    std::string key;
    for (const auto& f : fields) {
      const auto& meta = pairs[i].meta;
      const bool has = meta.is_object() && meta.contains(f);
      const std::string v = !has ? "-" : meta[f].is_string() ? meta[f].get<std::string>() : meta[f].dump();
      key += (key.empty() ? "" : " / ") + v;
    }
    auto [it, added] = index.emplace(key, groups.size());
    if (added) groups.push_back({key, {}});
    const PairAccuracy one = pair_accuracy({s[2 * i], s[2 * i + 1]});
    groups[it->second].second.correct += one.correct;
    groups[it->second].second.scored += one.scored;
  }
  return groups;
}

}  // namespace shog
