// Helpers the model tests share: seeded random token ids, and the largest
// absolute difference relative to the reference's largest magnitude.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/random.h"

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

}  // namespace shog::test
