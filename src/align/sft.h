// Supervised fine-tuning (the "icing"): next-token cross-entropy on the
// assistant tokens of chat conversations only (the chat template's mask),
// samples packed into rows without attention across them (align/packing.h).
// The loss of a step is the mean over its trained tokens.
#pragma once
#include <cstdint>
#include <string>

#include "align/finetune_model.h"
#include "align/neftune.h"
#include "align/train_settings.h"

namespace shog {

struct SftConfig {
  FinetuneSettings model;
  AlignTrainSettings train;
  NeftuneSettings neftune;
  // Residual dropout while training (Transformer::set_residual_dropout), SFT
  // only: the preference trainers compare forward passes (chosen against
  // rejected, policy against reference), where dropout's noise would enter
  // the comparison, which is why TRL's DPO and reward trainers turn it off.
  double dropout = 0;
  void register_fields(ConfigFields& f);
};

struct SftResult {
  int64_t steps = 0, samples = 0, skipped = 0, trained_tokens = 0;
  double final_loss = 0, val_loss = -1, seconds = 0, tokens_per_s = 0;
};

SftResult run_sft(const SftConfig& cfg);

}  // namespace shog
