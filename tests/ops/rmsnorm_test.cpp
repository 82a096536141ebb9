// RMSNorm forward against a double-precision reference, backward against
// central differences of that reference, and the dw reduction's determinism.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <vector>

#include "core/random.h"
#include "ops_test_util.h"
#include "ops/rmsnorm.h"

namespace shog::ops {
namespace {

using test::randn;

void reference(std::vector<double>& y, std::vector<double>& rstd, const std::vector<double>& x,
               const std::vector<double>& w, int64_t N, int64_t C, double eps) {
  y.assign(N * C, 0.0);
  rstd.assign(N, 0.0);
  for (int64_t n = 0; n < N; n++) {
    double ss = 0;
    for (int64_t c = 0; c < C; c++) ss += x[n * C + c] * x[n * C + c];
    rstd[n] = 1.0 / std::sqrt(ss / double(C) + eps);
    for (int64_t c = 0; c < C; c++) y[n * C + c] = x[n * C + c] * rstd[n] * w[c];
  }
}

// Outputs are O(1); the float kernel's only error is rounding in a sum of C
// squares and two products, ~1e-7 relative. 2e-6 leaves ~10x headroom while
// any formula mistake (wrong eps placement, mean vs sum) is off by >1e-3.
TEST(RmsNorm, ForwardMatchesDoubleReference) {
  const int64_t N = 6, C = 67;
  const float eps = 1e-5f;
  Rng rng(10);
  auto x = randn(N * C, rng);
  auto w = randn(C, rng, 0.1, 1.0);
  x[0] = 0.0f;  // a row of tiny values shows eps is inside the sqrt
  for (int64_t c = 0; c < C; c++) x[(N - 1) * C + c] = 1e-4f * float(c % 3);
  std::vector<float> y(N * C), rstd(N);
  rmsnorm_forward(y.data(), rstd.data(), x.data(), w.data(), N, C, eps);

  std::vector<double> yd, rd;
  reference(yd, rd, {x.begin(), x.end()}, {w.begin(), w.end()}, N, C, eps);
  for (int64_t n = 0; n < N; n++) EXPECT_NEAR(rstd[n], rd[n], 2e-6 * rd[n]) << "row " << n;
  for (int64_t i = 0; i < N * C; i++) ASSERT_NEAR(y[i], yd[i], 2e-6 * (1 + std::abs(yd[i]))) << "element " << i;
}

// The finite differences run on the double reference (h = 1e-6: truncation
// ~h^2, rounding ~1e-16/h, both far below the float kernel's ~1e-6 error), so
// what is checked is the kernel's backward against exact math. Buffers start
// non-zero to prove the kernel accumulates.
TEST(RmsNorm, BackwardMatchesFiniteDifferencesAndAccumulates) {
  const int64_t N = 4, C = 19;
  const float eps = 1e-5f;
  Rng rng(11);
  auto x = randn(N * C, rng);
  auto w = randn(C, rng, 0.3, 1.0);
  auto R = randn(N * C, rng);
  std::vector<float> y(N * C), rstd(N);
  rmsnorm_forward(y.data(), rstd.data(), x.data(), w.data(), N, C, eps);
  auto dx0 = randn(N * C, rng), dw0 = randn(C, rng);
  auto dx = dx0, dw = dw0;
  rmsnorm_backward(dx.data(), dw.data(), R.data(), x.data(), w.data(), rstd.data(), N, C);

  std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end());
  auto loss = [&] {
    std::vector<double> yd, rd;
    reference(yd, rd, xd, wd, N, C, eps);
    double s = 0;
    for (int64_t i = 0; i < N * C; i++) s += yd[i] * R[i];
    return s;
  };
  auto fd = [&](double& p) { return test::central_difference(loss, p, 1e-6); };
  for (int64_t i = 0; i < N * C; i++)
    ASSERT_NEAR(double(dx[i]) - dx0[i], fd(xd[i]), 2e-5 * (1 + std::abs(fd(xd[i])))) << "dx " << i;
  for (int64_t c = 0; c < C; c++)
    ASSERT_NEAR(double(dw[c]) - dw0[c], fd(wd[c]), 2e-5 * (1 + std::abs(fd(wd[c])))) << "dw " << c;
}

// dw sums over all rows; its value must not depend on scheduling or on the
// number of threads (bitwise), or training runs would not be reproducible.
TEST(RmsNorm, BackwardWeightGradIsBitwiseThreadCountInvariant) {
  const int64_t N = 513, C = 200;
  Rng rng(12);
  auto x = randn(N * C, rng), w = randn(C, rng), dy = randn(N * C, rng);
  std::vector<float> y(N * C), rstd(N);
  rmsnorm_forward(y.data(), rstd.data(), x.data(), w.data(), N, C, 1e-6f);
  const int saved = omp_get_max_threads();
  std::vector<float> first;
  for (int threads : {1, 2, 3, 2}) {
    omp_set_num_threads(threads);
    std::vector<float> dx(N * C, 0.0f), dw(C, 0.0f);
    rmsnorm_backward(dx.data(), dw.data(), dy.data(), x.data(), w.data(), rstd.data(), N, C);
    if (first.empty()) first = dw;
    for (int64_t c = 0; c < C; c++) ASSERT_EQ(dw[c], first[c]) << "threads=" << threads << " c=" << c;
  }
  omp_set_num_threads(saved);
}

}  // namespace
}  // namespace shog::ops
