// Scalar math written with plain float arithmetic so that loops calling it
// auto-vectorise (libm's expf does not without -ffast-math, and in softmax
// loops over a 50k vocabulary it dominated). Shared by the CPU kernels
// (attention, output head) and the sampler.
#pragma once
#include <bit>
#include <cstdint>

namespace shog {

// e^x for x in [-87, 88], within 1e-7 relative of std::exp. Range reduction
// x = n ln2 + r, |r| <= ln2/2, with ln2 split in two (Cody-Waite); e^r by
// its Taylor series to r^7 (truncation error < 5e-9); 2^n from the exponent
// bits (n in [-126, 127], so they stay a normal float). NaN gives NaN.
inline float exp_in_range(float x) {
  const float round_magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float t = x * 1.44269504088896341f + round_magic;
  const float n = t - round_magic;
  const int32_t ni = std::bit_cast<int32_t>(t) - std::bit_cast<int32_t>(round_magic);
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const float two_n = std::bit_cast<float>((ni + 127) << 23);
  return p * two_n;
}

// exp(x) for x <= 0 (softmax arguments), within 1e-7 relative of std::exp,
// and exactly 0 below -87 (so -inf from a mask gives a weight of 0). The
// clamp keeps the integer conversion defined.
inline float exp_nonpositive(float x) {
  const bool underflow = x < -87.0f;
  return underflow ? 0.0f : exp_in_range(underflow ? -87.0f : x);
}

// 1 / (1 + e^-x), the form PyTorch's CPU kernel uses, within a few float
// ulps of it. Outside [-88, 87] the exponential is clamped: e^-x is then
// above 1.6e38 (the result is below 6e-39, returned as 0) or below 1.7e-38
// (the result rounds to 1 either way).
inline float sigmoid(float x) {
  const bool zero = x < -88.0f;
  const float e = exp_in_range(zero ? 0.0f : x > 87.0f ? -87.0f : -x);
  return zero ? 0.0f : 1.0f / (1.0f + e);
}

}  // namespace shog
