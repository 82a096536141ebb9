#include "align/train_settings.h"

#include <omp.h>

#include <cmath>

#include "core/error.h"

namespace shog {

void AlignTrainSettings::register_fields(ConfigFields& f) {
  f.add("data.train", "training JSONL", &train_data);
  f.add("data.val", "validation JSONL (optional)", &val_data);
  f.add("train.steps", "optimizer steps (0: run `epochs` passes)", &steps);
  f.add("train.epochs", "passes over the training data when steps = 0", &epochs);
  f.add("train.batch_rows", "packed rows of seq_len tokens per micro-batch", &batch_rows);
  f.add("train.seq_len", "tokens per packed row (longer samples are skipped, and counted)", &seq_len);
  f.add("train.grad_accum", "micro-batches per optimizer step", &grad_accum);
  f.add("train.seed", "seed for data order, LoRA init and dropout", &seed);
  f.add("train.lr", "peak learning rate", &lr);
  f.add("train.min_lr_ratio", "final lr as a fraction of the peak", &min_lr_ratio);
  f.add("train.warmup_steps", "linear warmup steps", &warmup_steps);
  f.add("train.schedule", "lr schedule: cosine, wsd, constant", &schedule);
  f.add("train.weight_decay", "AdamW decoupled weight decay (matrices only)", &weight_decay);
  f.add("train.beta1", "AdamW beta1", &beta1);
  f.add("train.beta2", "AdamW beta2", &beta2);
  f.add("train.eps", "AdamW epsilon", &eps);
  f.add("train.grad_clip", "global gradient-norm clip (0: off)", &grad_clip);
  f.add("train.val_every", "validate every N steps (0: only at the end)", &val_every);
  f.add("train.log_every", "progress line every N steps when stderr is not a terminal", &log_every);
  f.add("train.out_dir", "output directory (model or adapter, metrics, plots)", &out_dir);
  f.add("train.threads", "OpenMP threads (0: all cores)", &threads);
  f.add("train.progress", "show progress", &progress);
}

void AlignTrainSettings::validate() const {
  auto need = [](bool ok, const char* key, const char* why) {
    if (!ok) throw Error(ErrorKind::invalid_argument, key, why);
  };
  need(!train_data.empty(), "data.train", "no training data given (set --train)");
  need(!out_dir.empty(), "train.out_dir", "no output directory given (set --out-dir)");
  need(steps >= 0, "train.steps", "must be >= 0");
  need(steps > 0 || (epochs > 0 && std::isfinite(epochs)), "train.epochs", "must be > 0 when steps = 0");
  need(batch_rows >= 1, "train.batch_rows", "must be >= 1");
  need(seq_len >= 2, "train.seq_len", "must be >= 2");
  need(grad_accum >= 1, "train.grad_accum", "must be >= 1");
  need(lr > 0 && std::isfinite(lr), "train.lr", "must be a positive number");
  need(min_lr_ratio >= 0 && min_lr_ratio <= 1, "train.min_lr_ratio", "must be in [0, 1]");
  need(warmup_steps >= 0, "train.warmup_steps", "must be >= 0");
  need(weight_decay >= 0, "train.weight_decay", "must be >= 0");
  need(beta1 >= 0 && beta1 < 1, "train.beta1", "must be in [0, 1)");
  need(beta2 >= 0 && beta2 < 1, "train.beta2", "must be in [0, 1)");
  need(eps > 0, "train.eps", "must be > 0");
  need(grad_clip >= 0, "train.grad_clip", "must be >= 0");
  need(val_every >= 0, "train.val_every", "must be >= 0");
  need(log_every >= 1, "train.log_every", "must be >= 1");
  need(threads >= 0, "train.threads", "must be >= 0");
  parse_lr_schedule(schedule, "train.schedule");
}

ops::AdamWHyper AlignTrainSettings::hyper() const {
  return {float(lr), float(beta1), float(beta2), float(eps), float(weight_decay)};
}

LrSchedule AlignTrainSettings::schedule_for(int64_t total) const {
  return {parse_lr_schedule(schedule, "train.schedule"), lr, std::min(warmup_steps, total / 2), total, min_lr_ratio,
          0.2};
}

int64_t AlignTrainSettings::total_steps(int64_t groups_per_epoch) const {
  if (steps > 0) return steps;
  return std::max<int64_t>(1, int64_t(std::ceil(epochs * double(groups_per_epoch) / double(grad_accum))));
}

void AlignTrainSettings::apply_threads() const {
  if (threads > 0) omp_set_num_threads(int(threads));
}

}  // namespace shog
