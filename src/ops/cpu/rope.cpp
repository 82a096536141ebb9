#include "ops/rope.h"

#include <cmath>

#include "ops/cpu/parallel_threshold.h"

namespace shog::ops {

// Computed in float exactly as Hugging Face's LlamaRotaryEmbedding does
// (inv_freq = 1 / theta^(arange(0, hd, 2) / hd) in float32, angle = float(pos)
// * inv_freq in float32): at position 4096 one float ulp of the angle is
// ~5e-4 rad, so computing angles in double would disagree with the model's
// reference implementation by more than the kernels' own error.
void rope_table(float* cos, float* sin, int64_t max_seq, int64_t hd, float theta) {
  const int64_t half = hd / 2;
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < max_seq; t++) {
    for (int64_t i = 0; i < half; i++) {
      const float inv_freq = 1.0f / std::pow(theta, float(2 * i) / float(hd));
      const float angle = float(t) * inv_freq;
      cos[t * half + i] = std::cos(angle);
      sin[t * half + i] = std::sin(angle);
    }
  }
}

// Rotates each pair (x1, x2) = (x[i], x[i + hd/2]) by +angle (forward) or
// -angle (backward: the rotation is orthogonal, so its adjoint is its inverse).
template <bool kInverse>
static void rope_apply(float* x, const float* cos, const float* sin, const int32_t* pos, int64_t B, int64_t T,
                       int64_t H, int64_t hd, int64_t token_stride) {
  const int64_t half = hd / 2;
#pragma omp parallel for collapse(2) schedule(static) if (B * T * H * hd >= kParallelMinElements)
  for (int64_t b = 0; b < B; b++) {
    for (int64_t t = 0; t < T; t++) {
      const int64_t p = pos ? int64_t(pos[b * T + t]) : t;
      const float* cr = cos + p * half;
      const float* sr = sin + p * half;
      float* xt = x + (b * T + t) * token_stride;
      for (int64_t h = 0; h < H; h++) {
        float* x1 = xt + h * hd;
        float* x2 = x1 + half;
#pragma omp simd
        for (int64_t i = 0; i < half; i++) {
          const float a = x1[i], c = x2[i], co = cr[i], s = kInverse ? -sr[i] : sr[i];
          x1[i] = a * co - c * s;
          x2[i] = c * co + a * s;
        }
      }
    }
  }
}

void rope_forward(float* x, const float* cos, const float* sin, const int32_t* pos, int64_t B, int64_t T, int64_t H,
                  int64_t hd, int64_t token_stride) {
  rope_apply<false>(x, cos, sin, pos, B, T, H, hd, token_stride);
}

void rope_backward(float* dx, const float* cos, const float* sin, const int32_t* pos, int64_t B, int64_t T, int64_t H,
                   int64_t hd, int64_t token_stride) {
  rope_apply<true>(dx, cos, sin, pos, B, T, H, hd, token_stride);
}

}  // namespace shog::ops
