// Scalar math written so that loops calling it auto-vectorise (libm's expf
// does not without -ffast-math). Shared by the CPU kernels that exponentiate
// softmax arguments: attention and the output head.
#pragma once
#include <bit>
#include <cstdint>

namespace shog::ops::cpu {

// exp(x) for x <= 0 (softmax arguments), ~2 ulp. Inputs below -87 (including
// -inf from a causal mask) give exactly 0.
inline float softmax_exp(float x_in) {
  // Clamped so the integer conversion below is always defined; the final
  // select restores the exact 0.
  const float x = x_in < -87.0f ? -87.0f : x_in;
  const float t = x * 1.44269504088896341f;
  const float n = (t + 12582912.0f) - 12582912.0f;  // round to nearest integer
  float f = x - n * 0.693145751953125f;              // ln2 split in two for accuracy
  f = f - n * 1.428606765330187e-06f;
  float p = 1.0f / 720;
  p = p * f + 1.0f / 120;
  p = p * f + 1.0f / 24;
  p = p * f + 1.0f / 6;
  p = p * f + 0.5f;
  p = p * f + 1.0f;
  p = p * f + 1.0f;
  const float scale = std::bit_cast<float>((int32_t(n) + 127) << 23);
  return x_in < -87.0f ? 0.0f : p * scale;
}

}  // namespace shog::ops::cpu
