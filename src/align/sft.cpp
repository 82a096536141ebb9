// Supervised fine-tuning. Reads top to bottom as it runs: load the model and
// the conversations, render them through the chat template (mask = assistant
// tokens; a plain-text record, `{"text": ...}`, is rendered as pretraining saw
// it and every token is trained, so pretraining text can be replayed beside
// the conversations), then per step: pack micro-batches, forward, weighted
// cross-entropy backward (weight 1/n on each of the step's n trained tokens,
// 0 elsewhere: no loss ever falls on prompt or padding tokens), one AdamW
// update of the trained block (the model, or the LoRA adapter), log.
#include "align/sft.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "align/packing.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/random.h"
#include "data/records.h"
#include "train/adamw_optimizer.h"
#include "train/run_log.h"

namespace shog {

void SftConfig::register_fields(ConfigFields& f) {
  model.register_fields(f);
  train.register_fields(f);
  neftune.register_fields(f);
  f.add("train.dropout",
        "residual dropout: the share of each attention and MLP block's output dropped in every training step "
        "(0: off)",
        &dropout);
}

namespace {

struct SftData {
  std::vector<TokenizedSample> samples;
  int64_t skipped = 0;
  int64_t text_documents = 0;  // of `samples`, plain-text records (every token trained)
};

SftData load_sft_data(const std::string& path, const ChatTemplate& chat, int64_t T) {
  SftData d;
  for (auto& c : read_conversations(path)) {
    RenderedChat r = c.is_text() ? chat.render_text(c.text) : chat.render(c.messages);
    TokenizedSample s{std::move(r.ids), std::move(r.mask)};
    bool any = false;
    for (size_t i = 1; i < s.mask.size(); ++i) any |= s.mask[i] != 0;
    if (!any || !fits(s, T, PackMode::next_token)) {
      ++d.skipped;
      continue;
    }
    d.samples.push_back(std::move(s));
    d.text_documents += c.is_text();
  }
  return d;
}

std::vector<std::vector<int64_t>> unit_lengths(const std::vector<TokenizedSample>& s) {
  std::vector<std::vector<int64_t>> out;
  for (auto& x : s) out.push_back({packed_length(x, PackMode::next_token)});
  return out;
}

// Mean cross-entropy per trained token over a whole data set.
double evaluate(FinetuneModel& fm, const std::vector<TokenizedSample>& data, const AlignTrainSettings& t) {
  std::vector<size_t> order(data.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto groups = plan_batches(unit_lengths(data), order, t.seq_len, t.batch_rows);
  double sum = 0, n = 0;
  const bool was = fm.model().training();
  fm.model().set_training(false);
  for (auto& g : groups) {
    std::vector<const TokenizedSample*> ptrs;
    for (size_t i : g) ptrs.push_back(&data[i]);
    PackedBatch b = pack_samples(ptrs, t.seq_len, PackMode::next_token, fm.pad_id());
    fm.model().forward(b.inputs.data(), b.B, b.T, b.seg_lens);
    std::vector<float> logp(b.inputs.size());
    fm.model().token_logprobs(b.targets.data(), logp.data());
    for (size_t i = 0; i < logp.size(); ++i) sum -= double(logp[i]) * b.weights[i], n += b.weights[i];
  }
  fm.model().set_training(was);
  return n > 0 ? sum / n : 0;
}

}  // namespace

SftResult run_sft(const SftConfig& cfg) {
  const auto& t = cfg.train;
  t.validate();
  cfg.neftune.validate();
  SHOG_CHECK(std::isfinite(cfg.dropout) && cfg.dropout >= 0 && cfg.dropout < 1, ErrorKind::invalid_argument,
             "train.dropout", "must be in [0, 1), not {}", cfg.dropout);
  t.apply_threads();
  FinetuneModel fm(cfg.model, uint64_t(t.seed));
  cfg.neftune.apply(fm.model(), uint64_t(t.seed));
  fm.model().set_residual_dropout(float(cfg.dropout), mix64(uint64_t(t.seed) ^ 0x7265736964ull));
  SHOG_CHECK(t.seq_len <= fm.model().config().max_seq, ErrorKind::invalid_argument, "train.seq_len",
             "{} exceeds the model's context of {}", t.seq_len, fm.model().config().max_seq);
  SftData train = load_sft_data(t.train_data, fm.chat(), t.seq_len);
  SHOG_CHECK(!train.samples.empty(), ErrorKind::invalid_argument, t.train_data,
             "no usable conversation (each needs an assistant turn and at most {} tokens)", t.seq_len + 1);
  SftData val;
  if (!t.val_data.empty()) val = load_sft_data(t.val_data, fm.chat(), t.seq_len);

  PackedEpochs epochs(unit_lengths(train.samples), t.seq_len, t.batch_rows, uint64_t(t.seed));
  const int64_t total = t.total_steps(epochs.groups_per_epoch());
  AdamWOptimizer opt(fm.train_table(), t.hyper());
  const LrSchedule sched = t.schedule_for(total);

  make_dirs(t.out_dir);
  MetricsLog metrics(t.out_dir + "/metrics.jsonl");
  std::fprintf(stderr,
               "sft: %lld conversations and %lld text documents (%lld skipped: no assistant turn or longer than %lld "
               "tokens), %lld steps, %s, %.2fM trainable parameters\n",
               (long long)(train.samples.size() - train.text_documents), (long long)train.text_documents,
               (long long)train.skipped, (long long)t.seq_len + 1, (long long)total,
               fm.adapter() ? "LoRA" : "full fine-tuning", double(fm.trainable_floats()) / 1e6);

  SftResult res;
  res.samples = int64_t(train.samples.size());
  res.skipped = train.skipped;
  fm.model().set_training(true);
  ProgressLine progress(total, t.log_every, t.progress);
  const auto run_start = std::chrono::steady_clock::now();
  double tok_time = 0;
  int64_t tok_count = 0;
  for (int64_t step = 0; step < total; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<PackedBatch> micro;
    double n_trained = 0;
    for (int64_t a = 0; a < t.grad_accum; ++a) {
      std::vector<const TokenizedSample*> ptrs;
      for (size_t i : epochs.next()) ptrs.push_back(&train.samples[i]);
      micro.push_back(pack_samples(ptrs, t.seq_len, PackMode::next_token, fm.pad_id()));
      for (float w : micro.back().weights) n_trained += w;
    }
    fm.zero_grad();
    double loss = 0;
    int64_t tokens = 0;
    for (auto& b : micro) {
      for (auto& w : b.weights) w = float(w / n_trained);
      fm.model().forward(b.inputs.data(), b.B, b.T, b.seg_lens);
      loss += fm.model().cross_entropy_backward(b.targets.data(), b.weights.data());
      tokens += b.B * b.T;
    }
    SHOG_CHECK(std::isfinite(loss), ErrorKind::numeric, fmt::format("sft step {}", step + 1),
               "loss is {}; stopping without saving", loss);
    const double lr = sched.at(step);
    const double gnorm = opt.step(fm.train_params(), fm.train_grads(), lr, float(t.grad_clip), fm.train_params16());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (step > 0) tok_time += secs, tok_count += tokens;
    res.final_loss = loss;
    res.trained_tokens += int64_t(n_trained);
    metrics.append({{"step", step + 1}, {"loss", loss}, {"lr", lr}, {"grad_norm", gnorm},
                    {"tokens_per_s", double(tokens) / secs}, {"epoch", epochs.epoch()}});
    std::string line = fmt::format("loss {:.4f} | lr {:.2e} | {:.0f} tok/s", loss, lr, double(tokens) / secs);
    if (!val.samples.empty() && (step + 1 == total || (t.val_every > 0 && (step + 1) % t.val_every == 0))) {
      res.val_loss = evaluate(fm, val.samples, t);
      metrics.append({{"step", step + 1}, {"val_loss", res.val_loss}});
      line += fmt::format(" | val {:.4f}", res.val_loss);
    }
    progress.show(step + 1, line, secs);
    res.steps = step + 1;
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
  res.tokens_per_s = tok_time > 0 ? double(tok_count) / tok_time : 0;
  fm.save(t.out_dir);
  plot_metrics(t.out_dir + "/loss.svg", "shoggoth sft", "cross-entropy on assistant tokens (nats)", metrics.rows(),
               {{"loss", "train", "#1f77b4"}, {"val_loss", "validation", "#d62728"}});
  return res;
}

}  // namespace shog
