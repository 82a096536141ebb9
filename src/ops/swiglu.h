// SwiGLU (Shazeer 2020): h = silu(gate) * up, where gate and up are the two
// halves of one fused projection gu[N, 2F] (gate = gu[:, :F], up = gu[:, F:]).
// Backward accumulates into dgu.
#pragma once
#include <cstdint>

namespace shog::ops {

void swiglu_forward(float* h, const float* gu, int64_t N, int64_t F);
void swiglu_backward(float* dgu, const float* dh, const float* gu, int64_t N, int64_t F);

}  // namespace shog::ops
