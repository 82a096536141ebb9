// gemv (ops/gemv.h): tiles of 4 rows of W by up to 6 rows of x, each tile a
// set of 24 dot products of length K kept in vector accumulators and reduced
// to scalars once at the end. Tiles of W are split statically over threads,
// so each thread streams its own contiguous stretch of W.
#include "ops/gemv.h"

#include <immintrin.h>

#include <algorithm>
#include <array>

#include "core/error.h"
#include "ops/cpu/bf16_pair_dot.h"

namespace shog::ops {
namespace {

constexpr int kTileW = 4;  // rows of W per tile
constexpr int kTileX = 6;  // rows of x per tile: 4 x 6 accumulators + 4 + 1 loads fit in 32 registers
constexpr int64_t kPrefetchTiles = 2;  // how far ahead (in tiles of W) the passes prefetch

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__)
// How a 512-bit piece of x or W is loaded and multiplied into an f32 accumulator.
struct F32Ops {
  using T = float;
  using V = __m512;
  static constexpr int64_t kStep = 16;
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V load_tail(const float* p, int64_t n) { return _mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p); }
  static __m512 madd(__m512 acc, V a, V b) { return _mm512_fmadd_ps(a, b, acc); }
};

struct Bf16Ops {
  using T = bf16;
  using V = __m512i;  // 32 bf16: lane i of 16 holds elements 2i (low half) and 2i + 1
  static constexpr int64_t kStep = 32;
  static V load(const bf16* p) { return _mm512_loadu_si512(p); }
  static V load_tail(const bf16* p, int64_t n) {
    return _mm512_maskz_loadu_epi16(__mmask32((uint64_t(1) << n) - 1), p);
  }
  static __m512 madd(__m512 acc, V a, V b) { return cpu::bf16_pair_dot(acc, a, b); }
};

// GCC 12 warns that the "undefined" upper half inside the 512-to-256 cast is
// uninitialised (GCC bug 105593); the cast reads only the defined half.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
// The four horizontal sums of a0..a3 as the lanes of one 128-bit vector, in
// 13 instructions: unpacks and shuffles first add the four within each
// 128-bit lane side by side, then the lanes are folded. (Four separate
// folds and two rounds of hadd take about twice as many.)
inline __m128 sum4(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
  const __m512 t0 = _mm512_add_ps(_mm512_unpacklo_ps(a0, a1), _mm512_unpackhi_ps(a0, a1));  // a0 a1 a0 a1
  const __m512 t1 = _mm512_add_ps(_mm512_unpacklo_ps(a2, a3), _mm512_unpackhi_ps(a2, a3));  // a2 a3 a2 a3
  const __m512 u = _mm512_add_ps(_mm512_shuffle_ps(t0, t1, 0x44), _mm512_shuffle_ps(t0, t1, 0xEE));  // a0 a1 a2 a3
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(u), _mm512_extractf32x8_ps(u, 1));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// The horizontal sum of one vector (a partial tile's row).
inline float sum1(__m512 a) {
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}
#pragma GCC diagnostic pop

// y[m, n] (+)= dot(x[m, :], w[n, :]) for NB rows of w and MB rows of x.
// With `prefetch`, the same columns of a later tile's rows of W (those rows n
// whose bit is set in `prefetch_rows`) are fetched as this tile's are used:
// the four rows are four interleaved streams, which the hardware prefetcher
// alone follows at well below the memory bandwidth.
template <class Ops, int NB, int MB>
void tile(const typename Ops::T* x, const typename Ops::T* w, int64_t K, float* y, int64_t ldy, bool accumulate,
          const typename Ops::T* prefetch, unsigned prefetch_rows) {
  __m512 acc[NB][MB];
  for (int n = 0; n < NB; ++n)
    for (int m = 0; m < MB; ++m) acc[n][m] = _mm512_setzero_ps();
  auto step = [&](int64_t k, auto load) {
    typename Ops::V wv[NB];
    if (prefetch)
      for (int n = 0; n < kTileW; ++n)
        if (prefetch_rows >> n & 1u) _mm_prefetch(reinterpret_cast<const char*>(prefetch + n * K + k), _MM_HINT_T0);
    for (int n = 0; n < NB; ++n) wv[n] = load(w + n * K + k);
    for (int m = 0; m < MB; ++m) {
      const typename Ops::V xv = load(x + m * K + k);
      for (int n = 0; n < NB; ++n) acc[n][m] = Ops::madd(acc[n][m], xv, wv[n]);
    }
  };
  int64_t k = 0;
  for (; k + Ops::kStep <= K; k += Ops::kStep) step(k, [](const typename Ops::T* p) { return Ops::load(p); });
  if (k < K) {
    const int64_t rest = K - k;
    step(k, [rest](const typename Ops::T* p) { return Ops::load_tail(p, rest); });
  }
  for (int m = 0; m < MB; ++m) {
    float* ym = y + m * ldy;
    if constexpr (NB == kTileW) {
      const __m128 h = sum4(acc[0][m], acc[1][m], acc[2][m], acc[3][m]);  // lane n = sum over row n
      _mm_storeu_ps(ym, accumulate ? _mm_add_ps(_mm_loadu_ps(ym), h) : h);
    } else {
      for (int n = 0; n < NB; ++n) {
        const float t = sum1(acc[n][m]);
        ym[n] = accumulate ? ym[n] + t : t;
      }
    }
  }
}

template <class Ops>
using TileFn = void (*)(const typename Ops::T*, const typename Ops::T*, int64_t, float*, int64_t, bool,
                       const typename Ops::T*, unsigned);

// tiles[nb - 1][mb - 1] for every partial tile shape.
template <class Ops>
constexpr auto tile_table() {
  return []<int... I>(std::integer_sequence<int, I...>) {
    return std::array<TileFn<Ops>, sizeof...(I)>{&tile<Ops, I / kTileX + 1, I % kTileX + 1>...};
  }(std::make_integer_sequence<int, kTileW * kTileX>{});
}

template <class Ops>
void gemv_impl(int64_t M, int64_t N, int64_t K, const typename Ops::T* x, const typename Ops::T* W, float* y,
               bool accumulate) {
  static constexpr auto tiles = tile_table<Ops>();
  if (M <= 2) {
    // Bound by reading W: one row of W at a time is one sequential stream
    // per thread, which the hardware prefetcher follows at full bandwidth
    // (four interleaved rows reach about two thirds of it).
#pragma omp parallel for schedule(static) if (M * N * K >= (int64_t(1) << 16))
    for (int64_t n = 0; n < N; ++n) tiles[size_t(M - 1)](x, W + n * K, K, y + n, N, accumulate, nullptr, 0);
    return;
  }
  const int64_t n_tiles = (N + kTileW - 1) / kTileW;
  const int64_t passes = (M + kTileX - 1) / kTileX;
  // A tiny product (a LoRA rank-8 projection) is not worth waking the team.
#pragma omp parallel for schedule(static) if (M * N * K >= (int64_t(1) << 16))
  for (int64_t t = 0; t < n_tiles; ++t) {
    const int64_t n0 = t * kTileW, nb = std::min<int64_t>(kTileW, N - n0);
    for (int64_t m0 = 0; m0 < M; m0 += kTileX) {
      const int64_t mb = std::min<int64_t>(kTileX, M - m0);
      // Each pass over this tile (the later ones find it in cache) prefetches
      // its share of a later tile's rows: spread over all passes, the reads
      // from memory go on at an even rate instead of in bursts.
      const int64_t pass = m0 / kTileX;
      unsigned rows = 0;
      for (int64_t n = pass; n < kTileW; n += passes) rows |= 1u << n;
      const bool pf = n0 + (kPrefetchTiles + 1) * kTileW <= N;
      tiles[size_t((nb - 1) * kTileX + (mb - 1))](x + m0 * K, W + n0 * K, K, y + m0 * N + n0, N, accumulate,
                                                   pf ? W + (n0 + kPrefetchTiles * kTileW) * K : nullptr, rows);
    }
  }
}
#else
// Portable fallback (a build without AVX-512): the same sums, one at a time.
template <class T>
void gemv_plain(int64_t M, int64_t N, int64_t K, const T* x, const T* W, float* y, bool accumulate) {
  auto f = [](T v) {
    if constexpr (std::is_same_v<T, bf16>)
      return bf16_to_f32(v);
    else
      return v;
  };
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m) {
      float s = 0.0f;
      for (int64_t k = 0; k < K; ++k) s += f(x[m * K + k]) * f(W[n * K + k]);
      float& o = y[m * N + n];
      o = accumulate ? o + s : s;
    }
}
#endif

}  // namespace

void gemv(DType dt, int64_t M, int64_t N, int64_t K, const void* x, const void* W, float* y, bool accumulate) {
  SHOG_CHECK(M >= 0 && N >= 0 && K >= 0, ErrorKind::invalid_argument, "gemv", "bad shape M={} N={} K={}", M, N, K);
  SHOG_CHECK(dt == DType::f32 || dt == DType::bf16, ErrorKind::unsupported, "gemv", "dtype {} (f32 or bf16)",
             dtype_name(dt));
  if (M == 0 || N == 0) return;
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__)
  if (dt == DType::f32)
    gemv_impl<F32Ops>(M, N, K, static_cast<const float*>(x), static_cast<const float*>(W), y, accumulate);
  else
    gemv_impl<Bf16Ops>(M, N, K, static_cast<const bf16*>(x), static_cast<const bf16*>(W), y, accumulate);
#else
  if (dt == DType::f32)
    gemv_plain(M, N, K, static_cast<const float*>(x), static_cast<const float*>(W), y, accumulate);
  else
    gemv_plain(M, N, K, static_cast<const bf16*>(x), static_cast<const bf16*>(W), y, accumulate);
#endif
}

}  // namespace shog::ops
