// Matrix multiply, the one op that dominates every step. CPU: oneDNN matmul
// primitives, created once per shape and cached. CUDA (later): cuBLASLt.
//
// Row-major throughout. C[M,N] = op(A) * op(B) (+ C when accumulate), where
// op(A) is [M,K] (A stored [M,K] with leading dimension lda, or stored [K,M]
// when trans_a), op(B) is [K,N] (stored [K,N], or [N,K] when trans_b).
// A and B share one dtype (f32, or bf16 with f32 accumulation); C is f32.
//
// The three products a linear layer y = x W^T needs (W stored [out,in] as in
// PyTorch/HF):
//   forward      y[N,out]   = x[N,in]  * W^T      gemm(.., false, true , ..)
//   input grad   dx[N,in]  += dy[N,out] * W        gemm(.., false, false, ..)
//   weight grad  dW[out,in]+= dy^T * x             gemm(.., true , false, ..)
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace shog::ops {

// Safe to call from several threads at once. Each distinct (dtype, transposes,
// M, N, K, leading dims, accumulate) builds one primitive on first use (a JIT
// compile, milliseconds) that is kept for the life of the process.
void gemm(DType dt, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const void* A, int64_t lda,
          const void* B, int64_t ldb, float* C, int64_t ldc, bool accumulate);

// Number of distinct primitives created so far (for tests of the cache).
int64_t gemm_cache_size();

}  // namespace shog::ops
