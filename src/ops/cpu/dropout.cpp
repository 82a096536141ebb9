#include "ops/dropout.h"

#include <algorithm>

#include "core/random.h"
#include "ops/cpu/parallel_threshold.h"

namespace shog::ops {

void dropout(const float* in, float* out, int64_t n, float p, uint64_t seed, bool accumulate) {
  // Keep element i when the top 32 bits of its hash are at least p * 2^32.
  const uint32_t threshold = uint32_t(std::min(double(p) * 4294967296.0, 4294967295.0));
  const float scale = 1.0f / (1.0f - p);
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
  for (int64_t i = 0; i < n; ++i) {
    const bool keep = uint32_t(mix64(seed + uint64_t(i) * 0x9e3779b97f4a7c15ull) >> 32) >= threshold;
    const float v = keep ? in[i] * scale : 0.0f;
    out[i] = accumulate ? out[i] + v : v;
  }
}

}  // namespace shog::ops
