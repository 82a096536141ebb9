// The frozen reference of the RL trainers' KL terms: the policy as it was
// before training. For a LoRA policy that is the base with the adapter
// detached (no copy needed: the base is frozen); for full fine-tuning a
// frozen copy of the starting weights.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "align/finetune_model.h"
#include "align/rollouts.h"

namespace shog {

class ReferencePolicy {
 public:
  // Call before the first update (a full policy's weights are copied here).
  explicit ReferencePolicy(FinetuneModel& fm);
  // Every rollout's packed log-probs under the reference, into ref_logp.
  void logps(std::vector<Rollout>& rs, int64_t T, int64_t max_rows);

 private:
  FinetuneModel& fm_;
  std::unique_ptr<Transformer> copy_;
};

}  // namespace shog
