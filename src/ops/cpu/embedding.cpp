#include "ops/embedding.h"

#include <algorithm>
#include <cstring>

#include <omp.h>

#include "core/random.h"
#include "ops/cpu/channel_slice.h"
#include "ops/cpu/parallel_threshold.h"

namespace shog::ops {

void embedding_forward(float* out, const int32_t* tokens, const float* wte, int64_t N, int64_t C) {
#pragma omp parallel for schedule(static) if (N * C >= kParallelMinElements)
  for (int64_t n = 0; n < N; n++) {
    std::memcpy(out + n * C, wte + int64_t(tokens[n]) * C, size_t(C) * sizeof(float));
  }
}

// Two tokens in a batch may be the same id, so splitting over rows would race
// on dwte rows. Splitting over channels instead gives each thread its own
// columns of every dwte row; each thread walks n in order, so the sum for a
// given element is always taken in the same order, whatever the thread count.
void embedding_backward(float* dwte, const float* dout, const int32_t* tokens, int64_t N, int64_t C) {
#pragma omp parallel
  {
    const auto [c0, c1] = channel_slice(C, omp_get_thread_num(), omp_get_num_threads());
    if (c0 < c1) {
      for (int64_t n = 0; n < N; n++) {
        float* dst = dwte + int64_t(tokens[n]) * C;
        const float* src = dout + n * C;
#pragma omp simd
        for (int64_t c = c0; c < c1; c++) dst[c] += src[c];
      }
    }
  }
}

void embedding_noise(float* x, int64_t n, float magnitude, uint64_t seed) {
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
  for (int64_t i = 0; i < n; i++) {
    // The top 24 bits of the hash, as a float in [0, 1) exactly.
    const float u = float(mix64(seed + uint64_t(i) * 0x9e3779b97f4a7c15ull) >> 40) * 0x1.0p-24f;
    x[i] += magnitude * (2.0f * u - 1.0f);
  }
}

}  // namespace shog::ops
