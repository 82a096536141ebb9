// [train] keys shared by the alignment trainers (sft, reward, dpo, and the
// RL trainers later), so that they read and validate alike.
#pragma once
#include <cstdint>
#include <string>

#include "ops/adamw.h"
#include "train/config_fields.h"
#include "train/lr_schedule.h"

namespace shog {

struct AlignTrainSettings {
  std::string train_data, val_data;  // JSONL
  int64_t steps = 0;                 // 0: `epochs` passes over the training data
  double epochs = 1;
  int64_t batch_rows = 8;            // packed rows of seq_len tokens per micro-batch
  int64_t seq_len = 256;
  int64_t grad_accum = 1;
  int64_t seed = 1;
  double lr = 1e-4, min_lr_ratio = 0.1, weight_decay = 0.0, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, grad_clip = 1.0;
  int64_t warmup_steps = 10;
  std::string schedule = "cosine";
  int64_t val_every = 50, log_every = 10;
  std::string out_dir;
  int64_t threads = 0;
  bool progress = true;

  void register_fields(ConfigFields& f);
  void validate() const;  // throws naming the key
  ops::AdamWHyper hyper() const;
  LrSchedule schedule_for(int64_t total_steps) const;
  // Optimizer steps for a run over `groups_per_epoch` micro-batches.
  int64_t total_steps(int64_t groups_per_epoch) const;
  void apply_threads() const;
};

}  // namespace shog
