// NEFTune (Jain et al., 2023): uniform noise on the token embeddings in every
// training forward, m = alpha / sqrt(seq_len * d_model) in magnitude, as TRL's
// `neftune_noise_alpha`. The trainers that fit a model to fixed data (sft,
// reward, dpo) take it as `train.neftune_alpha`; the RL trainers do not,
// because their rollouts are sampled without noise and the importance ratio
// would then compare two different models.
#pragma once
#include <cstdint>

#include "model/transformer.h"
#include "train/config_fields.h"

namespace shog {

struct NeftuneSettings {
  double alpha = 0;  // 0: off
  void register_fields(ConfigFields& f);
  void validate() const;  // throws naming the key
  // Turns the noise on for `m`'s training-mode forwards, draws from `seed`.
  void apply(Transformer& m, uint64_t seed) const;
};

}  // namespace shog
