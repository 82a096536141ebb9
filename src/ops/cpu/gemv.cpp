// gemv (ops/gemv.h): rows of W split statically over threads; per row of W,
// M dot products of length K, each with four independent accumulators to
// cover FMA latency. AVX-512 when compiled for it, plain loops otherwise.
#include "ops/gemv.h"

#include <immintrin.h>

#include <algorithm>

#include "core/error.h"

namespace shog::ops {
namespace {

#ifdef __AVX512F__
inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 load16(const bf16* p) {
  // bf16 is the top half of an f32: widen to 32 bits and shift into place.
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
#endif
inline float to_f32(float v) { return v; }
inline float to_f32(bf16 v) { return bf16_to_f32(v); }

#ifdef __AVX512F__
inline float hsum(__m512 v) {
  alignas(64) float lanes[16];  // (_mm512_reduce_add_ps trips a GCC 12 warning)
  _mm512_store_ps(lanes, v);
  float s = 0.0f;
  for (float x : lanes) s += x;
  return s;
}
#endif

// One row of W against R (1..4) inputs: each 16-wide piece of w is loaded
// once and used R times. R = 1 splits the sum into four chains instead, to
// keep the FMA pipeline busy.
template <int R, class T>
void dot_rows(const float* x, int64_t K, const T* w, float* out) {
  int64_t k = 0;
  float s[R] = {};
#ifdef __AVX512F__
  if constexpr (R == 1) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (; k + 64 <= K; k += 64) {
      a0 = _mm512_fmadd_ps(load16(x + k), load16(w + k), a0);
      a1 = _mm512_fmadd_ps(load16(x + k + 16), load16(w + k + 16), a1);
      a2 = _mm512_fmadd_ps(load16(x + k + 32), load16(w + k + 32), a2);
      a3 = _mm512_fmadd_ps(load16(x + k + 48), load16(w + k + 48), a3);
    }
    for (; k + 16 <= K; k += 16) a0 = _mm512_fmadd_ps(load16(x + k), load16(w + k), a0);
    s[0] = hsum(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  } else {
    __m512 a[R];
    for (int r = 0; r < R; ++r) a[r] = _mm512_setzero_ps();
    for (; k + 16 <= K; k += 16) {
      const __m512 wv = load16(w + k);
      for (int r = 0; r < R; ++r) a[r] = _mm512_fmadd_ps(load16(x + r * K + k), wv, a[r]);
    }
    for (int r = 0; r < R; ++r) s[r] = hsum(a[r]);
  }
#endif
  for (; k < K; ++k)
    for (int r = 0; r < R; ++r) s[r] += x[r * K + k] * to_f32(w[k]);
  for (int r = 0; r < R; ++r) out[r] = s[r];
}

template <class T>
void gemv_impl(int64_t M, int64_t N, int64_t K, const float* x, const T* W, float* y, bool accumulate) {
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const T* w = W + n * K;
    for (int64_t m0 = 0; m0 < M; m0 += 4) {
      float d[4];
      const float* xm = x + m0 * K;
      switch (std::min<int64_t>(4, M - m0)) {
        case 1: dot_rows<1>(xm, K, w, d); break;
        case 2: dot_rows<2>(xm, K, w, d); break;
        case 3: dot_rows<3>(xm, K, w, d); break;
        default: dot_rows<4>(xm, K, w, d); break;
      }
      for (int64_t r = 0; r < std::min<int64_t>(4, M - m0); ++r) {
        float& o = y[(m0 + r) * N + n];
        o = accumulate ? o + d[r] : d[r];
      }
    }
  }
}

}  // namespace

void gemv(DType w_dtype, int64_t M, int64_t N, int64_t K, const float* x, const void* W, float* y, bool accumulate) {
  SHOG_CHECK(M >= 0 && N >= 0 && K >= 0, ErrorKind::invalid_argument, "gemv", "bad shape M={} N={} K={}", M, N, K);
  if (w_dtype == DType::f32)
    gemv_impl(M, N, K, x, static_cast<const float*>(W), y, accumulate);
  else if (w_dtype == DType::bf16)
    gemv_impl(M, N, K, x, static_cast<const bf16*>(W), y, accumulate);
  else
    throw Error(ErrorKind::unsupported, "gemv", fmt::format("weights of dtype {}", dtype_name(w_dtype)));
}

}  // namespace shog::ops
