// Few-row products for decoding: y[M, N] (+)= x[M, K] W[N, K]^T with M the
// number of sequences decoding at once, 1 to 16 (a model's projections send it
// 1 or 2 rows; more rows multiply by a panel-packed copy of W: ops/panel_gemm.h;
// LoRA's small products send it up to 16).
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

// Largest M sent to gemv, per dtype: 1-2 rows, where W is read one row at a
// time (one sequential stream, bound by memory). More rows multiply by a
// panel-packed copy (ops/panel_gemm.h). bf16: in the server, one stream's
// 1-row steps through the panels took 9.1-9.9 ms against 7.0-10.0 here
// (docs/benchmarks.md). f32: until session 13 gemv took up to 16 rows; the f32
// panels (panel_gemm_f32) do 16 rows of d12's projections in 8.6 ms against
// 9.5, and a d12 decode step at batch 16 is 8-12% faster (docs/benchmarks.md,
// "f32 panels").
constexpr int64_t gemv_max_rows(DType dt) { return 2; }
// f32 steps of more rows than gemv's, up to this many, go through
// ops::panel_gemm_f32; longer ones through oneDNN.
constexpr int64_t kPanelMaxRowsF32 = 64;
// Rows of the steps the thread tuner tunes (infer/thread_tuner.h).
constexpr int64_t kGemvMaxRows = 16;

void gemv(DType dt, int64_t M, int64_t N, int64_t K, const void* x, const void* W, float* y, bool accumulate);

}  // namespace shog::ops
