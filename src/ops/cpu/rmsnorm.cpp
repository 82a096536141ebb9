#include "ops/rmsnorm.h"

#include <algorithm>
#include <cmath>

#include <omp.h>

#include "ops/cpu/channel_slice.h"
#include "ops/cpu/parallel_threshold.h"

namespace shog::ops {

// Same operation order as Hugging Face's LlamaRMSNorm: (x * rstd) * w.
void rmsnorm_forward(float* y, float* rstd, const float* x, const float* w, int64_t N, int64_t C, float eps) {
#pragma omp parallel for schedule(static) if (N * C >= kParallelMinElements)
  for (int64_t n = 0; n < N; n++) {
    const float* xr = x + n * C;
    float* yr = y + n * C;
    float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (int64_t c = 0; c < C; c++) ss += xr[c] * xr[c];
    const float r = 1.0f / std::sqrt(ss / float(C) + eps);
    rstd[n] = r;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) yr[c] = (xr[c] * r) * w[c];
  }
}

// With r = (mean(x^2) + eps)^(-1/2) and y_i = w_i x_i r:
//   dx_j = r w_j dy_j - x_j r^3 / C * sum_i(w_i dy_i x_i)
//   dw_i = sum_n dy_i x_i r
void rmsnorm_backward(float* dx, float* dw, const float* dy, const float* x, const float* w, const float* rstd,
                      int64_t N, int64_t C) {
#pragma omp parallel
  {
#pragma omp for schedule(static)
    for (int64_t n = 0; n < N; n++) {
      const float* xr = x + n * C;
      const float* dyr = dy + n * C;
      float* dxr = dx + n * C;
      const float r = rstd[n];
      float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
      for (int64_t c = 0; c < C; c++) dot += w[c] * dyr[c] * xr[c];
      const float k = dot * r * r * r / float(C);
#pragma omp simd
      for (int64_t c = 0; c < C; c++) dxr[c] += r * w[c] * dyr[c] - k * xr[c];
    }
    // dw sums over rows. Rather than per-thread partials (a scratch buffer
    // this allocation-free interface has nowhere to keep), each thread owns a
    // slice of channels and walks every row in order: race-free, and the
    // summation order is fixed whatever the thread count. Slices are whole
    // 64-byte lines so threads never share a line of dw.
    const auto [c0, c1] = channel_slice(C, omp_get_thread_num(), omp_get_num_threads());
    for (int64_t n = 0; n < N && c0 < c1; n++) {
      const float* xr = x + n * C;
      const float* dyr = dy + n * C;
      const float r = rstd[n];
#pragma omp simd
      for (int64_t c = c0; c < c1; c++) dw[c] += dyr[c] * (xr[c] * r);
    }
  }
}

}  // namespace shog::ops
