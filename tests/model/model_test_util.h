// Helpers the model tests share: seeded random token ids, and the largest
// absolute difference relative to the reference's largest magnitude.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "model/transformer.h"

namespace shog::test {

inline std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> t;
  for (int64_t i = 0; i < n; ++i) t.push_back(int32_t(rng.below(uint64_t(vocab))));
  return t;
}

inline double rel_err(const float* a, const float* ref, int64_t n) {
  double d = 0, m = 0;
  for (int64_t i = 0; i < n; ++i) {
    d = std::max(d, std::fabs(double(a[i]) - double(ref[i])));
    m = std::max(m, std::fabs(double(ref[i])));
  }
  return m > 0 ? d / m : d;
}

// A model with a previous-token smear starts with a zero gain, which would
// make every check of the smear path vacuous: give it N(0, scale^2) values.
inline void randomize_smear(Transformer& m, uint64_t seed, float scale = 0.5f) {
  const ParamEntry* e = m.table().find("model.smear.weight");
  SHOG_ASSERT(e);
  Rng rng(seed);
  for (int64_t i = 0; i < e->numel; ++i) m.params()[e->offset + i] = float(rng.normal()) * scale;
  m.sync_compute_weights();
}

}  // namespace shog::test
