// SwiGLU: forward against double, backward against central differences of
// the double reference, and saturation far out on both sides.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/random.h"
#include "ops_test_util.h"
#include "ops/swiglu.h"

namespace shog::ops {
namespace {

using test::randn;

double silu(double g) { return g / (1.0 + std::exp(-g)); }

std::vector<double> reference(const std::vector<double>& gu, int64_t N, int64_t F) {
  std::vector<double> h(N * F);
  for (int64_t n = 0; n < N; n++)
    for (int64_t j = 0; j < F; j++) h[n * F + j] = silu(gu[n * 2 * F + j]) * gu[n * 2 * F + F + j];
  return h;
}

// A product of an exp-based sigmoid and two multiplies: a few float ulps
// relative, so 1e-6 relative (+1e-7 absolute near zero) holds with margin,
// while using the wrong half as gate is off by O(1).
TEST(SwiGlu, ForwardMatchesDoubleReference) {
  const int64_t N = 5, F = 41;
  Rng rng(30);
  auto gu = randn(N * 2 * F, rng, 3.0);
  gu[0] = 100.0f;   // sigmoid saturates at 1: h = g * u
  gu[1] = -100.0f;  // exp(100) overflows float to inf: h must be 0, not NaN
  std::vector<float> h(N * F);
  swiglu_forward(h.data(), gu.data(), N, F);
  auto want = reference({gu.begin(), gu.end()}, N, F);
  for (int64_t i = 0; i < N * F; i++) {
    ASSERT_TRUE(std::isfinite(h[i])) << "element " << i;
    ASSERT_NEAR(h[i], want[i], 1e-7 + 1e-6 * std::abs(want[i])) << "element " << i;
  }
}

// h = 1e-6 on the double reference: truncation ~1e-12, rounding ~1e-10, far
// below the float kernel's ~1e-7 relative error, so 1e-5 relative is a fair
// bound for the backward. Gradient buffers start non-zero (accumulation).
TEST(SwiGlu, BackwardMatchesFiniteDifferencesAndAccumulates) {
  const int64_t N = 3, F = 23;
  Rng rng(31);
  auto gu = randn(N * 2 * F, rng, 2.0);
  auto R = randn(N * F, rng);
  auto dgu0 = randn(N * 2 * F, rng);
  auto dgu = dgu0;
  swiglu_backward(dgu.data(), R.data(), gu.data(), N, F);

  std::vector<double> gd(gu.begin(), gu.end());
  auto loss = [&] {
    auto h = reference(gd, N, F);
    double s = 0;
    for (int64_t i = 0; i < N * F; i++) s += h[i] * R[i];
    return s;
  };
  for (int64_t i = 0; i < N * 2 * F; i++) {
    const double hstep = 1e-6, keep = gd[i];
    gd[i] = keep + hstep;
    const double lp = loss();
    gd[i] = keep - hstep;
    const double lm = loss();
    gd[i] = keep;
    const double fd = (lp - lm) / (2 * hstep);
    ASSERT_NEAR(double(dgu[i]) - dgu0[i], fd, 1e-5 * (1 + std::abs(fd))) << "element " << i;
  }
}

}  // namespace
}  // namespace shog::ops
