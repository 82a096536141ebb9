#include "align/neftune.h"

#include <cmath>

#include "core/error.h"
#include "core/random.h"

namespace shog {

void NeftuneSettings::register_fields(ConfigFields& f) {
  f.add("train.neftune_alpha",
        "NEFTune: uniform noise of magnitude alpha/sqrt(seq_len * d_model) on the token embeddings while training "
        "(0: off; the paper uses 5-15 on 7B models)",
        &alpha);
}

void NeftuneSettings::validate() const {
  SHOG_CHECK(std::isfinite(alpha) && alpha >= 0, ErrorKind::invalid_argument, "train.neftune_alpha",
             "must be a finite number >= 0, not {}", alpha);
}

void NeftuneSettings::apply(Transformer& m, uint64_t seed) const {
  // Its own stream, apart from LoRA dropout's (which uses the seed as is).
  m.set_embedding_noise(float(alpha), mix64(seed ^ 0x6e656674756e65ull));
}

}  // namespace shog
