// RMSNorm (Zhang & Sennrich 2019), as Llama uses it:
//   y = x / sqrt(mean(x^2) + eps) * w
// rstd[N] is saved for the backward. Backward accumulates into dx and dw; dw's
// sum over rows is taken in a fixed order, so it is bitwise reproducible for
// any thread count.
#pragma once
#include <cstdint>

namespace shog::ops {

void rmsnorm_forward(float* y, float* rstd, const float* x, const float* w, int64_t N, int64_t C, float eps);
void rmsnorm_backward(float* dx, float* dw, const float* dy, const float* x, const float* w, const float* rstd,
                      int64_t N, int64_t C);

}  // namespace shog::ops
