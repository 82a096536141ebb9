// bf16 products against weights packed into panels, for inference:
// y[M, N] (+)= x[M, K] W[N, K]^T, with W packed once (pack_panels_bf16) and
// x in bf16. Every row count goes through it, from a 1-row decode step to a
// 512-row prefill chunk.
//
// Layout: W's rows are cut into panels of kPanelWidth = 48 rows (the last one
// zero-padded). Panel p holds, for each pair of columns (2j, 2j+1), its 48
// rows' two values side by side:
//
//   packed[((p * K2 + j) * 48 + r) * 2 + e] = W[48 p + r, 2 j + e],  K2 = ceil(K / 2)
//
// so one 64-byte load is the pair j of 16 rows, exactly the operand of
// VDPBF16PS, and a broadcast of x's pair j is the other: 16 outputs advance by
// two products per instruction, with no horizontal sum at the end. A panel is
// one contiguous stretch of memory, so a thread reading its panels in order
// is one sequential stream. The same layout is also AMX's: 16 pair-rows of a
// panel, 16 outputs wide, are one tile operand of TDPBF16PS, and on a CPU with
// AMX-BF16 that kernel (ops/cpu/panel_gemm_amx.h) runs instead (docs/
// benchmarks.md, "AMX": a 16-row decode step's projections 3.2x, a 512-row
// prefill 3.4x faster on an Intel Xeon with AMX).
//
// Why not the row-major bf16 copy with a few-row kernel (ops/gemv.h) for
// decoding and oneDNN for prefill: at 16 rows that kernel dots 4 rows of W at
// a time, four interleaved streams that the hardware prefetcher follows at
// ~20 GB/s, plus a horizontal sum per output; oneDNN packs W on every call.
// On one d12 layer's projections and head (45.7 M weights streaming from
// memory, 2 threads) the panels take 16 rows from ~5.3 to ~4.1 ms, 4 rows
// from ~4.4 to ~2.5 ms, and a 512-row prefill from oneDNN's ~116 to ~112 ms
// (docs/benchmarks.md).
//
// Each output element is summed by one thread in a fixed order, whatever the
// thread count, so results do not depend on the number of threads.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace shog::ops {

constexpr int64_t kPanelWidth = 48;

// Elements (bf16) of W[N, K] packed.
int64_t panel_packed_size(int64_t N, int64_t K);

// Rounds W (f32, row-major [N, K]) to bf16 as convert_f32_to_bf16 does and
// writes it packed into out[panel_packed_size(N, K)], padding included.
void pack_panels_bf16(const float* W, int64_t N, int64_t K, bf16* out);

// Which kernel multiplies. automatic: AMX tiles (ops/cpu/panel_gemm_amx.h)
// where the CPU has them and K is a multiple of 32, else AVX-512 VDPBF16PS.
// The others force one (tests and benchmarks compare them); asking for AMX
// where it cannot run is an error.
enum class PanelKernel { automatic, avx512, amx };

// Whether PanelKernel::amx can run here with this K: the CPU has AMX-BF16,
// Linux lets the process use it, SHOG_AMX is not "0", and K % 32 == 0.
bool panel_amx_available(int64_t K);

// y[M, N] (+)= x[M, K] W^T with Wp = pack_panels_bf16(W); rows of x and y
// are contiguous (strides K and N). Accumulates in f32.
void panel_gemm_bf16(int64_t M, int64_t N, int64_t K, const bf16* x, const bf16* Wp, float* y, bool accumulate,
                     PanelKernel kernel = PanelKernel::automatic);

// The same in f32, for f32 decode batches: panel p holds, for each column k,
// its 48 rows' values side by side (packed[(p * K + k) * 48 + r] =
// W[48 p + r, k]), so one 64-byte load is column k of 16 rows and a
// broadcast of x[m, k] the other operand of an FMA. Products and sums are
// f32, each output summed by one thread in the order of k.
int64_t panel_packed_size_f32(int64_t N, int64_t K);
void pack_panels_f32(const float* W, int64_t N, int64_t K, float* out);
//
// `then`, when given, is the packed matrix of the product that comes next
// and its shape (N, K): each thread, on its last panel here, fetches its first
// panel there, so that the next call does not start on a cold panel (a decode
// step is ~50 such calls with a few small ops between them).
struct PanelsNext {
  const float* Wp = nullptr;
  int64_t N = 0, K = 0;
};
void panel_gemm_f32(int64_t M, int64_t N, int64_t K, const float* x, const float* Wp, float* y, bool accumulate,
                    PanelsNext then = {});

}  // namespace shog::ops
