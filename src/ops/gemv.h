// Few-row products for decoding: y[M, N] (+)= x[M, K] W[N, K]^T with M the
// number of sequences decoding at once (1 to a few dozen).
//
// At M = 1 the product is bound by reading W from memory; at M = 16 it is
// bound by arithmetic, but a general GEMM library runs such short, wide
// products far below peak (it packs W into its own layout on every call, and
// its blocking is tuned for large M). Here W is read in place, once per call:
// each thread takes tiles of 4 rows of W and dots them with up to 6 rows of x
// at a time (24 accumulators in registers), so every vector of W loaded is
// used by up to 6 inputs and every vector of x by 4 rows of W.
//
// dt = f32: x and W are f32 (FMA). dt = bf16: x and W are bf16 (the caller
// rounds x once, as a bf16 GEMM would), products accumulate in f32 through
// VDPBF16PS where the CPU has it. y is f32 in both.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace shog::ops {

// Largest M sent to gemv instead of ops::gemm (oneDNN), per dtype. On d12
// shapes (bench/ops_bench: BM_DecodeProjection, 2 threads) gemv wins in f32
// up to 16-24 rows, above which oneDNN's packing pays for itself (32 rows:
// 31 ms against 22), and in bf16 up to 64 rows at least (24 rows: 8.2 ms
// against 11.1; 64 rows: 19.0 against 20.3). A server step that mixes 15
// decode rows with a new request's prompt is one of those 17-64-row steps.
constexpr int64_t gemv_max_rows(DType dt) { return dt == DType::bf16 ? 64 : 16; }
// Rows that go through gemv in every dtype (the thread tuner relies on it).
constexpr int64_t kGemvMaxRows = 16;
static_assert(gemv_max_rows(DType::f32) >= kGemvMaxRows && gemv_max_rows(DType::bf16) >= kGemvMaxRows);

void gemv(DType dt, int64_t M, int64_t N, int64_t K, const void* x, const void* W, float* y, bool accumulate);

}  // namespace shog::ops
