// Newton-Schulz orthogonalisation against a double-precision transcription of
// the same iteration (both orientations), and the properties Muon relies on:
// singular values pushed into a band around 1 from any scale, singular
// vectors kept, and a bf16 path that stays close to f32.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "ops/newton_schulz.h"
#include "ops_test_util.h"

namespace shog::ops {
namespace {

using test::randn;
using Mat = std::vector<double>;  // row-major

// C[M,N] = A[M,K] B[K,N] in double.
Mat matmul(const Mat& a, const Mat& b, int64_t M, int64_t K, int64_t N) {
  Mat c(size_t(M * N), 0.0);
  for (int64_t i = 0; i < M; i++)
    for (int64_t k = 0; k < K; k++)
      for (int64_t j = 0; j < N; j++) c[size_t(i * N + j)] += a[size_t(i * K + k)] * b[size_t(k * N + j)];
  return c;
}

Mat transpose(const Mat& a, int64_t rows, int64_t cols) {
  Mat t(a.size());
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) t[size_t(j * rows + i)] = a[size_t(i * cols + j)];
  return t;
}

// The iteration as written in the Muon reference, in double.
Mat reference(const std::vector<float>& g, int64_t rows, int64_t cols, int steps) {
  Mat x(g.begin(), g.end());
  const bool tall = rows > cols;
  int64_t r = rows, c = cols;
  if (tall) x = transpose(x, rows, cols), std::swap(r, c);
  double ss = 0;
  for (double v : x) ss += v * v;
  for (double& v : x) v /= std::sqrt(ss) + 1e-7;
  const double a = 3.4445, b = -4.7750, cc = 2.0315;
  for (int s = 0; s < steps; s++) {
    Mat A = matmul(x, transpose(x, r, c), r, c, r);
    Mat AA = matmul(A, A, r, r, r);
    Mat B(A.size());
    for (size_t i = 0; i < A.size(); i++) B[i] = b * A[i] + cc * AA[i];
    Mat BX = matmul(B, x, r, r, c);
    for (size_t i = 0; i < x.size(); i++) x[i] = a * x[i] + BX[i];
  }
  return tall ? transpose(x, r, c) : x;
}

// Extreme eigenvalues of the symmetric S (n x n) by power iteration on S and
// on (shift I - S): the squared extreme singular values when S = X X^T.
std::pair<double, double> extreme_eigenvalues(const Mat& S, int64_t n) {
  auto top = [&](const Mat& M) {
    std::vector<double> v(static_cast<size_t>(n), 1.0), w(static_cast<size_t>(n));
    double lambda = 0;
    for (int it = 0; it < 2000; it++) {
      double norm = 0;
      for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t j = 0; j < n; j++) s += M[size_t(i * n + j)] * v[size_t(j)];
        w[size_t(i)] = s, norm += s * s;
      }
      norm = std::sqrt(norm);
      lambda = norm;
      for (int64_t i = 0; i < n; i++) v[size_t(i)] = w[size_t(i)] / norm;
    }
    return lambda;
  };
  const double hi = top(S);
  Mat shifted(S.size());
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < n; j++) shifted[size_t(i * n + j)] = (i == j ? hi : 0.0) - S[size_t(i * n + j)];
  return {hi - top(shifted), hi};
}

// Five steps of the op into a new vector.
std::vector<float> orthogonalized(const std::vector<float>& g, int64_t rows, int64_t cols, DType dt = DType::f32) {
  std::vector<float> out(g.size());
  newton_schulz_orthogonalize(g.data(), rows, cols, 5, dt, out.data());
  return out;
}

void check_matches_reference(int64_t rows, int64_t cols, int steps) {
  Rng rng(uint64_t(7 + rows * 31 + cols));
  auto g = randn(size_t(rows * cols), rng, 0.3);
  std::vector<float> out(g.size());
  newton_schulz_orthogonalize(g.data(), rows, cols, steps, DType::f32, out.data());
  const Mat want = reference(g, rows, cols, steps);
  double err = 0, norm = 0;
  for (size_t i = 0; i < out.size(); i++) err += (out[i] - want[i]) * (out[i] - want[i]), norm += want[i] * want[i];
  // f32 GEMMs against double: ~1e-6 relative per step, amplified a little by
  // the polynomial; a wrong coefficient, a missing transpose or a skipped
  // normalisation is off by O(1).
  EXPECT_LT(std::sqrt(err / norm), 1e-4) << rows << "x" << cols << ", " << steps << " steps";
}

TEST(NewtonSchulz, WideMatchesDoubleReference) { check_matches_reference(24, 56, 5); }
TEST(NewtonSchulz, TallMatchesDoubleReference) { check_matches_reference(56, 24, 5); }
TEST(NewtonSchulz, SquareMatchesDoubleReference) { check_matches_reference(32, 32, 3); }
TEST(NewtonSchulz, ZeroStepsIsTheNormalisedInput) { check_matches_reference(8, 20, 0); }

// A matrix with singular values spread over three decades comes out with all
// of them in the band the quintic's coefficients aim for, whatever its scale.
TEST(NewtonSchulz, SingularValuesLandNearOneAtAnyScale) {
  const int64_t r = 24, c = 40;
  Rng rng(3);
  auto u = randn(size_t(r * c), rng);
  // Columns scaled from 1 to 1e-3 spread the singular values.
  for (int64_t i = 0; i < r; i++)
    for (int64_t j = 0; j < c; j++) u[size_t(i * c + j)] *= float(std::pow(1e-3, double(j) / double(c - 1)));
  for (float scale : {1e-4f, 1.0f, 1e4f}) {
    std::vector<float> g(u), out(u.size());
    for (float& v : g) v *= scale;
    newton_schulz_orthogonalize(g.data(), r, c, 5, DType::f32, out.data());
    Mat x(out.begin(), out.end());
    auto [lo, hi] = extreme_eigenvalues(matmul(x, transpose(x, r, c), r, c, r), r);
    // Singular values = sqrt of X X^T's eigenvalues; the input's smallest is
    // ~1e-2.5 of its largest, and five steps lift it into the band.
    EXPECT_GT(std::sqrt(lo), 0.5) << "scale " << scale;
    EXPECT_LT(std::sqrt(hi), 1.25) << "scale " << scale;
  }
}

// The output keeps the input's singular vectors: for G = U S V^T it is
// U f(S) V^T, so G^T O (= V S f(S) V^T) is symmetric positive definite.
TEST(NewtonSchulz, KeepsTheSingularVectors) {
  const int64_t r = 16, c = 28;
  Rng rng(5);
  auto g = randn(size_t(r * c), rng);
  const auto out = orthogonalized(g, r, c);
  Mat G(g.begin(), g.end()), O(out.begin(), out.end());
  Mat P = matmul(transpose(G, r, c), O, c, r, c);  // [c, c]
  double asym = 0, norm = 0;
  for (int64_t i = 0; i < c; i++)
    for (int64_t j = 0; j < c; j++) {
      const double d = P[size_t(i * c + j)] - P[size_t(j * c + i)];
      asym += d * d, norm += P[size_t(i * c + j)] * P[size_t(i * c + j)];
    }
  EXPECT_LT(std::sqrt(asym / norm), 1e-4);
  Mat P2 = matmul(G, transpose(O, r, c), r, c, r);  // U S f(S) U^T: positive diagonal
  for (int64_t i = 0; i < r; i++) EXPECT_GT(P2[size_t(i * r + i)], 0.0) << i;
}

TEST(NewtonSchulz, Bf16StaysCloseToF32) {
  const int64_t r = 64, c = 176;
  Rng rng(9);
  auto g = randn(size_t(r * c), rng);
  const auto a = orthogonalized(g, r, c), b = orthogonalized(g, r, c, DType::bf16);
  double err = 0, norm = 0;
  for (size_t i = 0; i < a.size(); i++) err += (a[i] - b[i]) * (a[i] - b[i]), norm += double(a[i]) * a[i];
  // bf16 keeps 8 bits of mantissa (~4e-3 relative per rounding); five steps
  // of products stay within a few percent, and are not identical.
  EXPECT_LT(std::sqrt(err / norm), 5e-2);
  EXPECT_GT(err, 0.0);
}

TEST(NewtonSchulz, InPlaceAndBadArguments) {
  const int64_t r = 6, c = 10;
  Rng rng(2);
  auto g = randn(size_t(r * c), rng);
  auto out = orthogonalized(g, r, c);
  newton_schulz_orthogonalize(g.data(), r, c, 5, DType::f32, g.data());
  EXPECT_EQ(g, out);
  EXPECT_THROW(newton_schulz_orthogonalize(g.data(), 0, c, 5, DType::f32, out.data()), Error);
  EXPECT_THROW(newton_schulz_orthogonalize(g.data(), r, c, 5, DType::i32, out.data()), Error);
}

}  // namespace
}  // namespace shog::ops
