// Few-row f32 products for decoding: y[M, N] (+)= x[M, K] W[N, K]^T with M
// the number of sequences decoding at once (1 to 16), W row-major and read in
// place (bf16 decoding multiplies by a panel-packed copy instead:
// ops/panel_gemm.h).
//
// At M = 1 the product is bound by reading W from memory; at M = 16 it is
// bound by arithmetic, but a general GEMM library runs such short, wide
// products far below peak (it packs W into its own layout on every call, and
// its blocking is tuned for large M). Here W is read in place, once per call:
// each thread takes tiles of 4 rows of W and dots them with up to 6 rows of x
// at a time (24 accumulators in registers), so every vector of W loaded is
// used by up to 6 inputs and every vector of x by 4 rows of W.
#pragma once
#include <cstdint>

namespace shog::ops {

// Largest M sent to gemv instead of ops::gemm (oneDNN). On d12 shapes
// (bench/ops_bench: BM_DecodeProjection, 2 threads) gemv wins up to 16-24
// rows, above which oneDNN's packing pays for itself (32 rows: 31 ms against
// 22). The thread tuner (infer/thread_tuner.h) tunes steps of up to this many
// rows.
constexpr int64_t kGemvMaxRows = 16;

void gemv(int64_t M, int64_t N, int64_t K, const float* x, const float* W, float* y, bool accumulate);

}  // namespace shog::ops
