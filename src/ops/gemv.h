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

// Largest M sent to gemv instead of ops::gemm (oneDNN). On d12 and "small"
// shapes gemv wins up to here (bench/ops_bench: BM_DecodeProjection); above
// it oneDNN's packing pays for itself.
constexpr int64_t kGemvMaxRows = 16;

void gemv(DType dt, int64_t M, int64_t N, int64_t K, const void* x, const void* W, float* y, bool accumulate);

}  // namespace shog::ops
