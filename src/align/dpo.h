// Direct preference optimisation: the policy learns from preference pairs
// directly, against a frozen reference (the starting model), with the
// sigmoid (DPO) or IPO loss of align/preference_loss.h. The reference's
// log-probs are computed once, before the first step, and cached.
#pragma once
#include <cstdint>
#include <string>

#include "align/finetune_model.h"
#include "align/neftune.h"
#include "align/train_settings.h"

namespace shog {

struct DpoConfig {
  FinetuneSettings model;
  AlignTrainSettings train;
  NeftuneSettings neftune;
  double beta = 0.1, label_smoothing = 0;
  std::string loss = "sigmoid";  // sigmoid | ipo
  void register_fields(ConfigFields& f);
};

struct DpoResult {
  int64_t steps = 0, pairs = 0, skipped = 0;
  double final_loss = 0, seconds = 0;
  // On the validation pairs after training (-1 without them): the share of
  // pairs whose implicit reward beta*(log pi - log ref) is higher for the
  // chosen reply, and the mean margin of those rewards.
  double val_loss = -1, val_accuracy = -1, val_margin = 0;
};

DpoResult run_dpo(const DpoConfig& cfg);

}  // namespace shog
