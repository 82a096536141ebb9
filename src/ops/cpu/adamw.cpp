#include "ops/adamw.h"

#include <algorithm>
#include <cmath>

namespace shog::ops {

// Scalars are formed the way torch.optim.AdamW (single-tensor path) forms
// them: bias corrections and the step size in double (Python floats), then
// handed to the float kernels, which round them to float. That keeps us within
// an ulp or two of PyTorch per step rather than drifting apart over a run.
void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, const AdamWHyper& h, int64_t step,
                  bool decay, float grad_scale, bf16* p16) {
  const double lr = h.lr, b1 = h.beta1, b2 = h.beta2;
  const double bc1 = 1.0 - std::pow(b1, double(step));
  const double bc2 = 1.0 - std::pow(b2, double(step));
  const float step_size = float(lr / bc1);
  const float bc2_sqrt = float(std::sqrt(bc2));
  const float keep = decay ? float(1.0 - lr * double(h.weight_decay)) : 1.0f;
  const float beta1 = h.beta1, beta2 = h.beta2, one_m_b1 = float(1.0 - b1), one_m_b2 = float(1.0 - b2);
  const float eps = h.eps;
  // Blocks of a few thousand elements: the update runs as one vectorised
  // loop and the bf16 copy as a second one over the same, cache-hot, block
  // (fusing them element by element stops the compiler vectorising).
  constexpr int64_t kBlock = 4096;
  const int64_t nblocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < nblocks; b++) {
    const int64_t i0 = b * kBlock, i1 = std::min(n, i0 + kBlock);
#pragma omp simd
    for (int64_t i = i0; i < i1; i++) {
      const float gi = g[i] * grad_scale;
      const float mi = m[i] * beta1 + one_m_b1 * gi;
      const float vi = v[i] * beta2 + one_m_b2 * (gi * gi);
      m[i] = mi;
      v[i] = vi;
      const float denom = std::sqrt(vi) / bc2_sqrt + eps;
      p[i] = p[i] * keep - step_size * (mi / denom);
    }
    if (p16) {
#pragma omp simd
      for (int64_t i = i0; i < i1; i++) p16[i] = f32_to_bf16(p[i]);
    }
  }
}

// Blocks are fixed by n alone, and the block sums are added in block order,
// so the result does not depend on the thread count or on OpenMP's order of
// combining a reduction. Also no allocation: at most kMaxBlocks partials.
double sum_squares(const float* g, int64_t n) {
  constexpr int64_t kMaxBlocks = 256, kMinBlock = 1 << 14;
  const int64_t block = std::max(kMinBlock, (n + kMaxBlocks - 1) / kMaxBlocks);
  const int64_t nblocks = (n + block - 1) / block;
  double partial[kMaxBlocks];
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < nblocks; b++) {
    const int64_t i0 = b * block, i1 = std::min(n, i0 + block);
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = i0; i < i1; i++) s += double(g[i]) * double(g[i]);
    partial[b] = s;
  }
  double total = 0.0;
  for (int64_t b = 0; b < nblocks; b++) total += partial[b];
  return total;
}

// clip_grad_norm_ works in float32: clip_coef = max_norm / (total_norm + 1e-6),
// clamped to at most 1.
float clip_scale(double global_norm, float max_norm) {
  if (max_norm <= 0.0f) return 1.0f;
  const float coef = max_norm / (float(global_norm) + 1e-6f);
  return std::min(coef, 1.0f);
}

}  // namespace shog::ops
