#include "ops/smear.h"

#include <algorithm>

#include <omp.h>

#include "ops/cpu/channel_slice.h"
#include "ops/cpu/parallel_threshold.h"

namespace shog::ops {

void smear_forward(float* out, const int32_t* prev, const float* wte, const float* g, int64_t N, int64_t C) {
#pragma omp parallel for schedule(static) if (N * C >= kParallelMinElements)
  for (int64_t n = 0; n < N; n++) {
    if (prev[n] < 0) continue;
    float* o = out + n * C;
    const float* e = wte + int64_t(prev[n]) * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) o[c] += g[c] * e[c];
  }
}

// As in embedding_backward, threads split the channels, not the rows: two
// rows may share a previous token, and each thread walks n in order, so every
// sum is taken in the same order whatever the thread count.
void smear_backward(float* dwte, float* dg, const float* dout, const int32_t* prev, const float* wte, const float* g,
                    int64_t N, int64_t C) {
#pragma omp parallel
  {
    const auto [c0, c1] = channel_slice(C, omp_get_thread_num(), omp_get_num_threads());
    for (int64_t n = 0; n < N && c0 < c1; n++) {
      if (prev[n] < 0) continue;
      const int64_t row = int64_t(prev[n]) * C;
      const float* d = dout + n * C;
      if (dwte) {
#pragma omp simd
        for (int64_t c = c0; c < c1; c++) dwte[row + c] += g[c] * d[c];
      }
      if (dg) {
#pragma omp simd
        for (int64_t c = c0; c < c1; c++) dg[c] += wte[row + c] * d[c];
      }
    }
  }
}

}  // namespace shog::ops
