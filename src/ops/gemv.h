// Few-row products for decoding: y[M, N] (+)= x[M, K] W[N, K]^T with M the
// number of sequences decoding at once (f32: 1 to 16; bf16: 1 or 2, more rows
// multiply by a panel-packed copy of W: ops/panel_gemm.h).
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

// Largest M sent to gemv, per dtype. f32: instead of ops::gemm (oneDNN); on
// d12 shapes (bench/ops_bench: BM_DecodeProjection, 2 threads) gemv wins up
// to 16-24 rows, above which oneDNN's packing pays for itself (32 rows: 31 ms
// against 22). bf16: instead of ops::panel_gemm_bf16 on the panel-packed
// copy, only at 1-2 rows, where W is read one row at a time (one sequential
// stream, bound by memory): in the server, one stream's 1-row steps through
// the panels took 9.1-9.9 ms against 7.0-10.0 here (docs/benchmarks.md).
constexpr int64_t gemv_max_rows(DType dt) { return dt == DType::bf16 ? 2 : 16; }
// Rows of the steps the thread tuner tunes (infer/thread_tuner.h).
constexpr int64_t kGemvMaxRows = 16;

void gemv(DType dt, int64_t M, int64_t N, int64_t K, const void* x, const void* W, float* y, bool accumulate);

}  // namespace shog::ops
