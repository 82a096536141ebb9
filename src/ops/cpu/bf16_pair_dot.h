// One step of a bf16 dot product on AVX-512, shared by the CPU kernels that
// multiply bf16 (ops/cpu/gemv.cpp, ops/cpu/panel_gemm.cpp).
#pragma once
#if defined(__AVX512F__) && defined(__AVX512BW__)
#include <immintrin.h>

#include <cstdint>

namespace shog::ops::cpu {

// acc (16 f32 lanes) += a.even * b.even + a.odd * b.odd, lane by lane, where
// a and b hold 32 bf16 (lane i: elements 2i and 2i + 1).
inline __m512 bf16_pair_dot(__m512 acc, __m512i a, __m512i b) {
#ifdef __AVX512BF16__
  return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b);
#else
  // Without VDPBF16PS: a bf16 is the top half of an f32, so each element of a
  // pair widens exactly by a shift (even) or a mask (odd), then two FMAs.
  const __m512i hi = _mm512_set1_epi32(int32_t(0xFFFF0000u));
  acc = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(a, 16)), _mm512_castsi512_ps(_mm512_slli_epi32(b, 16)),
                        acc);
  return _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(a, hi)), _mm512_castsi512_ps(_mm512_and_si512(b, hi)),
                         acc);
#endif
}

}  // namespace shog::ops::cpu
#endif
