// panel_gemm (ops/panel_gemm.h): each thread takes a contiguous range of
// panels; for each panel it runs passes of up to 8 rows of x, each pass a
// block of 3 x 8 vector accumulators (48 outputs of 8 rows) in registers.
// The first pass reads the panel from memory, the later ones from cache, so
// every pass prefetches its share of the thread's next panel: memory is read
// at an even rate while the arithmetic goes on. A decode batch of up to 16
// rows (one or two passes) goes through each panel in short chunks instead,
// both passes on a chunk before the next (chunked_panel).
#include "ops/panel_gemm.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "core/error.h"
#include "ops/cpu/bf16_pair_dot.h"
#include "ops/cpu/panel_gemm_amx.h"

namespace shog::ops {
namespace {

constexpr int64_t kStepBytes = kPanelWidth * 2 * int64_t(sizeof(bf16));  // one step of a panel (a bf16 column pair, an f32 column): 192
constexpr int kRowsPerPass = 8;  // 3 x 8 accumulators + 3 W vectors + 1 broadcast fit in 32 registers

int64_t pairs(int64_t K) { return (K + 1) / 2; }

// The two element types a panel holds. A step is what one row of a panel
// covers: a pair of columns of W in bf16, one column in f32. Either way it is
// 48 outputs, 192 bytes, three vectors.
struct Bf16Panel {
  using T = bf16;
  static int64_t steps(int64_t K) { return pairs(K); }
  static int64_t full_steps(int64_t K) { return K / 2; }  // K odd: the last pair is half padding
};
struct F32Panel {
  using T = float;
  static int64_t steps(int64_t K) { return K; }
  static int64_t full_steps(int64_t K) { return K; }
};

#if defined(__AVX512F__) && defined(__AVX512BW__)
constexpr int kVecs = int(kPanelWidth / 16);  // f32 lanes per vector: 16

inline __mmask16 lanes(int valid) { return valid >= 16 ? __mmask16(0xFFFF) : valid <= 0 ? 0 : __mmask16((1u << valid) - 1); }

// One step of a panel in each element type: its three W vectors, x's value(s)
// for the step broadcast, and the multiply-add of the two. In bf16 a step is a
// column pair; Tail marks the last pair of an odd K, which has only its even
// element (W's odd one is padding, 0), so x is read one element there, never
// past the row.
inline __m512i load_w(const bf16* wp, int v) { return _mm512_loadu_si512(wp + 32 * v); }
inline __m512 load_w(const float* wp, int v) { return _mm512_loadu_ps(wp + 16 * v); }
template <bool Tail>
inline __m512i broadcast_x(const bf16* x, int64_t j) {
  if constexpr (!Tail) return _mm512_set1_epi32(_mm_cvtsi128_si32(_mm_loadu_si32(x + 2 * j)));
  uint16_t e;
  std::memcpy(&e, x + 2 * j, sizeof e);
  return _mm512_set1_epi32(int32_t(e));
}
template <bool Tail>
inline __m512 broadcast_x(const float* x, int64_t j) { return _mm512_set1_ps(x[j]); }
inline __m512 madd(__m512 acc, __m512i x, __m512i w) { return cpu::bf16_pair_dot(acc, x, w); }
inline __m512 madd(__m512 acc, __m512 x, __m512 w) { return _mm512_fmadd_ps(x, w, acc); }

// acc[v][m] (+)= x row m's step j . panel step j, vector v. Tail is a template
// argument so that the main loop tests nothing per step: with a test there
// GCC 12 ran short of registers for the 8 row pointers and spilled them in
// the loop.
template <int MB, bool Tail, class T>
inline void madd_step(__m512 (&acc)[kVecs][kRowsPerPass], const T* x, int64_t K, const T* wp, int64_t j) {
  decltype(load_w(wp, 0)) w[kVecs];
#pragma GCC unroll 4
  for (int v = 0; v < kVecs; ++v) w[v] = load_w(wp, v);
#pragma GCC unroll 8
  for (int m = 0; m < MB; ++m) {
    const auto xb = broadcast_x<Tail>(x + m * K, j);
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) acc[v][m] = madd(acc[v][m], xb, w[v]);
  }
}

// A block of MB rows x 48 outputs in accumulators: from y (or zero) and back,
// `valid` of the 48 columns real.
template <int MB>
inline void load_block(__m512 (&acc)[kVecs][kRowsPerPass], const float* y, int64_t ldy, int valid, bool accumulate) {
  for (int v = 0; v < kVecs; ++v)
    for (int m = 0; m < MB; ++m)
      acc[v][m] = accumulate ? _mm512_maskz_loadu_ps(lanes(valid - 16 * v), y + m * ldy + 16 * v) : _mm512_setzero_ps();
}
template <int MB>
inline void store_block(const __m512 (&acc)[kVecs][kRowsPerPass], float* y, int64_t ldy, int valid) {
  for (int v = 0; v < kVecs; ++v)
    for (int m = 0; m < MB; ++m) _mm512_mask_storeu_ps(y + m * ldy + 16 * v, lanes(valid - 16 * v), acc[v][m]);
}

// y[MB rows, `valid` columns] (+)= x[MB rows] . panel. With `prefetch`, the
// pass fetches `pf_step` bytes of it per panel step, starting there.
template <class P, int MB>
void pass(const typename P::T* x, int64_t K, const typename P::T* panel, float* y, int64_t ldy, int valid,
          bool accumulate, const char* prefetch, int64_t pf_step) {
  __m512 acc[kVecs][kRowsPerPass];
  load_block<MB>(acc, y, ldy, valid, accumulate);
  const int64_t full = P::full_steps(K);
  constexpr int64_t kStepElems = kStepBytes / int64_t(sizeof(typename P::T));
  for (int64_t j = 0; j < full; ++j) {
    if (prefetch) {
      const char* p = prefetch + j * pf_step;
      for (int64_t b = 0; b < pf_step; b += 64) _mm_prefetch(p + b, _MM_HINT_T0);
    }
    madd_step<MB, false>(acc, x, K, panel + j * kStepElems, j);
  }
  if (full < P::steps(K))  // its share of the next panel's last step goes unfetched
    madd_step<MB, true>(acc, x, K, panel + full * kStepElems, full);
  store_block<MB>(acc, y, ldy, valid);
}

template <class P>
using PassFn = void (*)(const typename P::T*, int64_t, const typename P::T*, float*, int64_t, int, bool, const char*,
                        int64_t);
template <class P>
constexpr auto kPasses = []<int... I>(std::integer_sequence<int, I...>) {
  return std::array<PassFn<P>, sizeof...(I)>{&pass<P, I + 1>...};
}(std::make_integer_sequence<int, kRowsPerPass>{});

// A decode batch (one or two passes, up to 16 rows) walks each panel in
// chunks of kChunkSteps steps, both row groups over a chunk before the next
// chunk, so that the second group reads the chunk from L1 rather than L2.
// At 16 rows a 64-byte line of f32 weights is 16 FMAs, so the two cores spend
// ~11 ms of a d12 step on arithmetic and ~19 ms reading 600 MB: a step is
// fast only if the two overlap. With whole-panel passes (a panel is 147 KB)
// the second pass read the panel back from L2 while the next one streamed
// in. A throwaway two-thread driver over 256 MB of f32 panels at 16 rows:
// 21-23 GB/s with whole-panel passes, 24-25.5 in 16-step chunks, against 31-
// 32 GB/s for a plain read. The next panel is fetched as before, each group
// its half at an even rate: the same chunks with the whole fetch in the first
// group, at any distance ahead from 8 to 147 KB, gave 19-21 GB/s. The fetch
// goes to L2 alone, where it waits without taking L1 from the chunk and the
// x rows in use: with whole-panel passes, d12 bf16 decode_bench at batch 16
// (the AVX-512 kernel), eight alternated runs, 1033-1229 tok/s (median ~1150)
// against 983-1089 (~1040) into L1; with more passes L1 stays better (batch
// 32 1073-1236, median ~1090, against 1094-1267, ~1250; prefill 512 1700-
// 1830 against 1765-1823).
constexpr int64_t kChunkSteps = 16;

// y[MB0 + MB1 rows, `valid` columns] (+)= x . panel, fetching `next` (a
// panel's length) into L2 on the way. The accumulators of the group not in
// registers wait in `keep`, in L1.
template <class P, int MB0, int MB1>
void chunked_panel(const typename P::T* x, int64_t K, const typename P::T* panel, float* y, int64_t ldy, int valid,
                   bool accumulate, const char* next) {
  constexpr int kGroups = MB1 > 0 ? 2 : 1;
  constexpr int64_t kStepElems = kStepBytes / int64_t(sizeof(typename P::T));
  constexpr int64_t kFetchStep = kStepBytes / kGroups;  // bytes of `next` each group fetches per step
  const int64_t steps = P::steps(K), full = P::full_steps(K);
  __m512 keep[kGroups][kVecs][kRowsPerPass];
  load_block<MB0>(keep[0], y, ldy, valid, accumulate);
  if constexpr (MB1 > 0) load_block<MB1>(keep[1], y + kRowsPerPass * ldy, ldy, valid, accumulate);
  auto group = [&]<int G, int MB, bool Tail>(int64_t j0, int64_t j1) {
    __m512 acc[kVecs][kRowsPerPass];
    for (int v = 0; v < kVecs; ++v)
      for (int m = 0; m < MB; ++m) acc[v][m] = keep[G][v][m];
    const typename P::T* xg = x + G * kRowsPerPass * K;
    const char* fetch = next ? next + G * kFetchStep * steps : nullptr;
    for (int64_t j = j0; j < j1; ++j) {
      if (fetch && !Tail)
        for (int64_t b = 0; b < kFetchStep; b += 64) _mm_prefetch(fetch + j * kFetchStep + b, _MM_HINT_T1);
      madd_step<MB, Tail>(acc, xg, K, panel + j * kStepElems, j);
    }
    for (int v = 0; v < kVecs; ++v)
      for (int m = 0; m < MB; ++m) keep[G][v][m] = acc[v][m];
  };
  for (int64_t j0 = 0; j0 < full; j0 += kChunkSteps) {
    const int64_t j1 = std::min(full, j0 + kChunkSteps);
    group.template operator()<0, MB0, false>(j0, j1);
    if constexpr (MB1 > 0) group.template operator()<1, MB1, false>(j0, j1);
  }
  if (full < steps) {  // the last pair of an odd K
    group.template operator()<0, MB0, true>(full, steps);
    if constexpr (MB1 > 0) group.template operator()<1, MB1, true>(full, steps);
  }
  store_block<MB0>(keep[0], y, ldy, valid);
  if constexpr (MB1 > 0) store_block<MB1>(keep[1], y + kRowsPerPass * ldy, ldy, valid);
}

template <class P>
using ChunkedFn = void (*)(const typename P::T*, int64_t, const typename P::T*, float*, int64_t, int, bool,
                           const char*);
// [M - 1] for M = 1..16: one group of M rows, or 8 and M - 8.
template <class P>
constexpr auto kChunked = []<int... I>(std::integer_sequence<int, I...>) {
  return std::array<ChunkedFn<P>, sizeof...(I)>{
      &chunked_panel<P, (I < kRowsPerPass ? I + 1 : kRowsPerPass), (I < kRowsPerPass ? 0 : I + 1 - kRowsPerPass)>...};
}(std::make_integer_sequence<int, 2 * kRowsPerPass>{});

// The first panel of thread t's share of a product of P_ panels: contiguous
// blocks, the first P_ % T of them one panel longer (as OpenMP's static
// schedule cuts them). Written out so that a thread knows where its share of
// the next product begins.
inline int64_t static_share_begin(int64_t P_, int64_t t, int64_t T) {
  return t * (P_ / T) + std::min(t, P_ % T);
}

template <class P>
void gemm_impl(int64_t M, int64_t N, int64_t K, const typename P::T* x, const typename P::T* Wp, float* y,
               bool accumulate, const typename P::T* next_Wp = nullptr, int64_t next_N = 0, int64_t next_K = 0) {
  const int64_t P_ = (N + kPanelWidth - 1) / kPanelWidth, steps = P::steps(K);
  const int64_t panel_elems = steps * kStepBytes / int64_t(sizeof(typename P::T));
  const int64_t passes = (M + kRowsPerPass - 1) / kRowsPerPass;
  const bool chunked = passes <= 2;  // a decode batch
  // Bytes of the next panel each pass fetches per step: all passes together
  // cover it once (rounded up to whole lines per pass).
  const int64_t pf_step = (kStepBytes + passes - 1) / passes;
  const int64_t pf_share = pf_step * steps;
  // The next product's panels, for the hand-over prefetch.
  const int64_t next_P = next_Wp ? (next_N + kPanelWidth - 1) / kPanelWidth : 0;
  const int64_t next_panel_elems = P::steps(next_K) * kStepBytes / int64_t(sizeof(typename P::T));
  const bool parallel = M * N * K >= (int64_t(1) << 16);  // a tiny product (a LoRA-sized one) is not worth the team
#pragma omp parallel if (parallel)
  {
    const int64_t T = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t p_end = static_share_begin(P_, t + 1, T);
    const typename P::T* handover = nullptr;  // this thread's first panel of the next product
    if (next_P > 0) {
      // Its share's start, when the fetch (this panel's length) stays inside
      // that matrix; past a short first panel it runs on into the next ones.
      const int64_t np = static_share_begin(next_P, t, T);
      if (np < static_share_begin(next_P, t + 1, T) && np * next_panel_elems + panel_elems <= next_P * next_panel_elems)
        handover = next_Wp + np * next_panel_elems;
    }
    for (int64_t p = static_share_begin(P_, t, T); p < p_end; ++p) {
      const typename P::T* panel = Wp + p * panel_elems;
      const int valid = int(std::min(kPanelWidth, N - p * kPanelWidth));
      const typename P::T* next_panel = p + 1 < p_end ? panel + panel_elems : handover;
      if (chunked) {
        kChunked<P>[size_t(M - 1)](x, K, panel, y + p * kPanelWidth, N, valid, accumulate,
                                   reinterpret_cast<const char*>(next_panel));
        continue;
      }
      for (int64_t i = 0; i < passes; ++i) {
        const int64_t m0 = i * kRowsPerPass;
        const int mb = int(std::min<int64_t>(kRowsPerPass, M - m0));
        const char* pf = next_panel ? reinterpret_cast<const char*>(next_panel) + i * pf_share : nullptr;
        kPasses<P>[size_t(mb - 1)](x + m0 * K, K, panel, y + m0 * N + p * kPanelWidth, N, valid, accumulate, pf,
                                   pf_step);
      }
    }
  }
}
#else
// Portable fallback (a build without AVX-512): the same sums, one at a time.
inline float widen(bf16 v) { return bf16_to_f32(v); }
inline float widen(float v) { return v; }

template <class P>
void gemm_impl(int64_t M, int64_t N, int64_t K, const typename P::T* x, const typename P::T* Wp, float* y,
               bool accumulate, const typename P::T* = nullptr, int64_t = 0, int64_t = 0) {
  constexpr int64_t per_step = kStepBytes / int64_t(sizeof(typename P::T)) / kPanelWidth;  // 2 (bf16) or 1 (f32)
  const int64_t panel_elems = P::steps(K) * kPanelWidth * per_step;
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const typename P::T* panel = Wp + (n / kPanelWidth) * panel_elems;
    const int64_t r = n % kPanelWidth;
    for (int64_t m = 0; m < M; ++m) {
      float s = 0.0f;
      for (int64_t k = 0; k < K; ++k)
        s += widen(x[m * K + k]) * widen(panel[((k / per_step) * kPanelWidth + r) * per_step + k % per_step]);
      float& o = y[m * N + n];
      o = accumulate ? o + s : s;
    }
  }
}
#endif

}  // namespace

int64_t panel_packed_size(int64_t N, int64_t K) {
  return (N + kPanelWidth - 1) / kPanelWidth * kPanelWidth * pairs(K) * 2;
}

int64_t panel_packed_size_f32(int64_t N, int64_t K) { return (N + kPanelWidth - 1) / kPanelWidth * kPanelWidth * K; }

void pack_panels_bf16(const float* W, int64_t N, int64_t K, bf16* out) {
  SHOG_CHECK(N >= 0 && K >= 0, ErrorKind::invalid_argument, "pack_panels_bf16", "bad shape N={} K={}", N, K);
  const int64_t P = (N + kPanelWidth - 1) / kPanelWidth, K2 = pairs(K);
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < P; ++p) {
    bf16* panel = out + p * K2 * kPanelWidth * 2;
    for (int64_t r = 0; r < kPanelWidth; ++r) {
      const int64_t n = p * kPanelWidth + r;
      for (int64_t k = 0; k < 2 * K2; ++k)
        panel[((k / 2) * kPanelWidth + r) * 2 + k % 2] = n < N && k < K ? f32_to_bf16(W[n * K + k]) : bf16{};
    }
  }
}

bool panel_amx_available(int64_t K) { return cpu::amx_fits(K) && cpu::amx_usable(); }

void pack_panels_f32(const float* W, int64_t N, int64_t K, float* out) {
  SHOG_CHECK(N >= 0 && K >= 0, ErrorKind::invalid_argument, "pack_panels_f32", "bad shape N={} K={}", N, K);
  const int64_t P = (N + kPanelWidth - 1) / kPanelWidth;
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < P; ++p) {
    float* panel = out + p * K * kPanelWidth;
    for (int64_t r = 0; r < kPanelWidth; ++r) {
      const int64_t n = p * kPanelWidth + r;
      for (int64_t k = 0; k < K; ++k) panel[k * kPanelWidth + r] = n < N ? W[n * K + k] : 0.0f;
    }
  }
}

void panel_gemm_f32(int64_t M, int64_t N, int64_t K, const float* x, const float* Wp, float* y, bool accumulate,
                    PanelsNext then) {
  SHOG_CHECK(M >= 0 && N >= 0 && K >= 0, ErrorKind::invalid_argument, "panel_gemm_f32", "bad shape M={} N={} K={}", M,
             N, K);
  if (M == 0 || N == 0) return;
  gemm_impl<F32Panel>(M, N, K, x, Wp, y, accumulate, then.Wp, then.N, then.K);
}

void panel_gemm_bf16(int64_t M, int64_t N, int64_t K, const bf16* x, const bf16* Wp, float* y, bool accumulate,
                     PanelKernel kernel) {
  SHOG_CHECK(M >= 0 && N >= 0 && K >= 0, ErrorKind::invalid_argument, "panel_gemm_bf16", "bad shape M={} N={} K={}",
             M, N, K);
  const bool amx = kernel == PanelKernel::amx || (kernel == PanelKernel::automatic && panel_amx_available(K));
  SHOG_CHECK(!amx || panel_amx_available(K), ErrorKind::invalid_argument, "panel_gemm_bf16",
             "the AMX kernel cannot run here (K={}: it needs a multiple of 32 and a CPU with AMX-BF16)", K);
  if (M == 0 || N == 0) return;
  if (amx)
    cpu::panel_gemm_amx(M, N, K, x, Wp, y, accumulate);
  else
    gemm_impl<Bf16Panel>(M, N, K, x, Wp, y, accumulate);
}

}  // namespace shog::ops
