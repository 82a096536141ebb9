// Self-supervised pretraining: next-token cross-entropy on token shards.
// `shoggoth pretrain` is a thin shell around run_pretrain(); every setting is
// a field of PretrainConfig, settable from TOML and from flags alike.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/model_config.h"
#include "train/communicator.h"
#include "train/config_fields.h"

namespace shog {

struct PretrainConfig {
  // [model]
  std::string preset = "small";  // starting point; explicit keys below override (0 = keep preset)
  int64_t n_layer = 0, d_model = 0, n_head = 0, n_kv_head = 0, ffn_hidden = 0, vocab = 0, max_seq = 0;
  double rope_theta = 0, norm_eps = 0;
  std::string tie_embeddings = "preset";  // "true", "false" or "preset"
  bool smear = false;                      // previous-token smear (ops/smear.h)
  double init_std = 0.02;
  double embed_init_std = 0;  // 0: init_std
  // Start from this model's weights (a checkpoint or model directory) instead
  // of a random init: continued pretraining on new data. The optimizer, lr
  // schedule and data order start fresh; the [model] shape must match it.
  std::string init_from;
  // [data]
  std::vector<std::string> train_shards, val_shards;
  std::string tokenizer;  // copied next to checkpoints when given
  // [train]
  int64_t batch_size = 8 /* per rank */, seq_len = 128, grad_accum = 1, steps = 200, seed = 1337;
  std::string dtype = "bf16";
  double lr = 3e-3, min_lr_ratio = 0.1, decay_fraction = 0.2, weight_decay = 0.1, beta1 = 0.9, beta2 = 0.95,
         eps = 1e-8, grad_clip = 1.0;
  int64_t warmup_steps = 20;
  std::string schedule = "cosine";
  int64_t val_every = 50, val_batches = 8, ckpt_every = 100, log_every = 10;
  std::string out_dir = "runs/pretrain";
  int64_t threads = 0;           // 0: all cores
  int64_t stop_after = 0;        // stop (with a checkpoint) after this step; 0 = run to `steps` (testing resume)
  bool progress = true;
  bool zero1 = false;            // shard AdamW moments over data-parallel ranks (no effect on one process)
  bool overlap_grad_sum = true;  // data parallel: sum each layer's gradient over ranks during backward
  // "adamw", or "muon": Muon on the layers' matrices, AdamW (train.lr and the
  // keys above) on the rest (train/muon_optimizer.h).
  std::string optimizer = "adamw";
  double muon_lr = 0.02, muon_momentum = 0.95, muon_weight_decay = 0.0;
  int64_t muon_ns_steps = 5;

  void register_fields(ConfigFields& f);
  ModelConfig model_config() const;
  void validate() const;  // throws shog::Error naming the key
};

struct PretrainResult {
  int64_t steps_done = 0;
  double final_train_loss = 0, final_val_loss = -1;
  double tokens_per_second = 0, mfu = 0;  // over all ranks
  std::string checkpoint_dir;
};

// Data parallel over comm's ranks: every rank calls it with the same cfg;
// batch_size is per rank, so a step trains on batch_size x ranks x grad_accum
// sequences and equals (up to float summation order) one process with
// batch_size x ranks. Only rank 0 writes to out_dir or the terminal; every
// rank returns the same losses, rank 0 alone a checkpoint_dir.
PretrainResult run_pretrain(const PretrainConfig& cfg, bool resume, Communicator& comm);
PretrainResult run_pretrain(const PretrainConfig& cfg, bool resume);  // one process

}  // namespace shog
