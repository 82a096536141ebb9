// Matrix-vector products for decoding: y[M, N] (+)= x[M, K] W[N, K]^T with
// a handful of rows M (one per sequence decoding at once). With so few rows
// the product is bound by reading W once from memory, so what matters is
// streaming W at full bandwidth on every core: rows of W are split over
// threads, each row is loaded once and dotted with all M inputs while it is
// in L1. (A general GEMM library tiles for reuse that M = 1 cannot have, and
// its fixed per-call overheads are not amortised.)
//
// W is f32 or bf16 (the bf16 copy of the weights, ParamTable layout); x and y
// are f32. bf16 weights are widened exactly to f32 and multiplied with the
// f32 inputs, accumulating in f32.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace shog::ops {

// Largest M for which gemv beats oneDNN on d12 shapes (measured on the AVX-512
// dev machine, one thread: M = 1 is 1.4-4x faster, M = 2 about even to 1.8x,
// M = 4 slower).
constexpr int64_t kGemvMaxRows = 2;

void gemv(DType w_dtype, int64_t M, int64_t N, int64_t K, const float* x, const void* W, float* y, bool accumulate);

}  // namespace shog::ops
