#include "ops/newton_schulz.h"

#include <cmath>
#include <utility>
#include <vector>

#include "core/error.h"
#include "ops/adamw.h"
#include "ops/gemm.h"

namespace shog::ops {
namespace {

// C[M,N] = A[M,K] * op(B) in dt: bf16 rounds copies of both operands first.
// op(B) is B^T ([N,K] stored) when trans_b.
void product(DType dt, bool trans_b, int64_t M, int64_t N, int64_t K, const float* a, const float* b, float* c,
             std::vector<bf16>& a16, std::vector<bf16>& b16) {
  const int64_t ldb = trans_b ? K : N;
  if (dt == DType::f32) {
    gemm(DType::f32, false, trans_b, M, N, K, a, K, b, ldb, c, N, false);
    return;
  }
  a16.resize(size_t(M * K));
  convert_f32_to_bf16(a, a16.data(), a16.size());
  const bf16* bp = a16.data();
  if (b != a) {
    b16.resize(size_t(K * N));
    convert_f32_to_bf16(b, b16.data(), b16.size());
    bp = b16.data();
  }
  gemm(DType::bf16, false, trans_b, M, N, K, a16.data(), K, bp, ldb, c, N, false);
}

}  // namespace

void newton_schulz_orthogonalize(const float* g, int64_t rows, int64_t cols, int steps, DType dt, float* out) {
  SHOG_CHECK(rows > 0 && cols > 0 && steps >= 0, ErrorKind::invalid_argument, "newton_schulz_orthogonalize",
             "shape [{}, {}] with {} steps", rows, cols, steps);
  SHOG_CHECK(dt == DType::f32 || dt == DType::bf16, ErrorKind::invalid_argument, "newton_schulz_orthogonalize",
             "GEMM dtype must be f32 or bf16");
  // Work on the wide orientation [r, c] with r <= c.
  const bool wide = rows <= cols;
  const int64_t r = wide ? rows : cols, c = wide ? cols : rows, n = r * c;
  std::vector<float> x(static_cast<size_t>(n)), y(static_cast<size_t>(n)), a(static_cast<size_t>(r * r)),
      b(static_cast<size_t>(r * r));
  std::vector<bf16> a16, b16;
  if (wide) {
    std::copy(g, g + n, x.begin());
  } else {
    for (int64_t i = 0; i < rows; i++)
      for (int64_t j = 0; j < cols; j++) x[size_t(j * rows + i)] = g[i * cols + j];
  }
  const float inv = float(1.0 / (std::sqrt(sum_squares(x.data(), n)) + 1e-7));
  for (float& v : x) v *= inv;

  for (int s = 0; s < steps; s++) {
    product(dt, true, r, r, c, x.data(), x.data(), a.data(), a16, b16);   // A = X X^T
    product(dt, false, r, r, r, a.data(), a.data(), b.data(), a16, b16);  // A A
    for (int64_t i = 0; i < r * r; i++) b[size_t(i)] = kNewtonSchulzB * a[size_t(i)] + kNewtonSchulzC * b[size_t(i)];
    product(dt, false, r, c, r, b.data(), x.data(), y.data(), a16, b16);  // B X
    for (int64_t i = 0; i < n; i++) y[size_t(i)] += kNewtonSchulzA * x[size_t(i)];
    std::swap(x, y);
  }

  if (wide) {
    std::copy(x.begin(), x.end(), out);
  } else {
    for (int64_t i = 0; i < rows; i++)
      for (int64_t j = 0; j < cols; j++) out[i * cols + j] = x[size_t(j * rows + i)];
  }
}

}  // namespace shog::ops
