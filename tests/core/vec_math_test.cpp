// core/vec_math.h: the vectorisable exp and sigmoid against libm in double,
// over their whole domains, including the clamped ends, infinities and NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/vec_math.h"

namespace shog {
namespace {

// 2e-7 relative: the Taylor truncation (< 5e-9) plus a few float roundings.
// A wrong coefficient or a wrong ln2 split is off by far more at |r| ~ 0.35.
TEST(VecMath, ExpInRangeMatchesLibm) {
  for (float x = -87.0f; x <= 88.0f; x += 0.0137f) {
    const double want = std::exp(double(x));
    ASSERT_NEAR(exp_in_range(x), want, 2e-7 * want) << "x = " << x;
  }
}

TEST(VecMath, ExpNonpositiveIsZeroBelowTheRangeAndForMinusInfinity) {
  EXPECT_EQ(exp_nonpositive(0.0f), 1.0f);
  EXPECT_EQ(exp_nonpositive(-87.5f), 0.0f);
  EXPECT_EQ(exp_nonpositive(-1e30f), 0.0f);
  EXPECT_EQ(exp_nonpositive(-std::numeric_limits<float>::infinity()), 0.0f);
  const double want = std::exp(double(-86.9f));
  EXPECT_NEAR(exp_nonpositive(-86.9f), want, 2e-7 * want);
}

// sigmoid against 1 / (1 + e^-x) in double: relative 4e-7 (the exp's error
// passes through 1 + e at most once), across the clamped ends too, where the
// true value is below 6e-39 (returned as 0) or rounds to 1.
TEST(VecMath, SigmoidMatchesDoubleReference) {
  for (float x = -120.0f; x <= 120.0f; x += 0.0173f) {
    const double want = 1.0 / (1.0 + std::exp(-double(x)));
    const float got = sigmoid(x);
    ASSERT_TRUE(std::isfinite(got)) << "x = " << x;
    ASSERT_NEAR(got, want, 4e-7 * want + 1e-38) << "x = " << x;
  }
  EXPECT_EQ(sigmoid(std::numeric_limits<float>::infinity()), 1.0f);
  EXPECT_EQ(sigmoid(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_TRUE(std::isnan(sigmoid(std::numeric_limits<float>::quiet_NaN())));
}

}  // namespace
}  // namespace shog
