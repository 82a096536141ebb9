// ops::dropout: the share it drops, the scale of what it keeps, and that a
// seed names one mask (the backward's correctness rests on that).
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>

#include "ops/dropout.h"
#include "ops_test_util.h"

using namespace shog;

TEST(Dropout, DropsTheShareAskedAndScalesTheRest) {
  const int64_t n = 200000;
  Rng rng(3);
  const auto in = ops::test::randn(size_t(n), rng, 1.0, 2.0);
  for (float p : {0.05f, 0.3f, 0.75f}) {
    std::vector<float> out(static_cast<size_t>(n));
    ops::dropout(in.data(), out.data(), n, p, 11, false);
    int64_t dropped = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (out[size_t(i)] == 0.0f) {
        ++dropped;
        continue;
      }
      ASSERT_EQ(out[size_t(i)], in[size_t(i)] * (1.0f / (1.0f - p))) << "element " << i << ", p " << p;
    }
    // A binomial count: within 5 standard deviations of n p.
    const double sd = std::sqrt(double(n) * p * (1 - p));
    EXPECT_NEAR(double(dropped), double(n) * p, 5 * sd) << "p " << p;
  }
  std::vector<float> out(static_cast<size_t>(n));
  ops::dropout(in.data(), out.data(), n, 0.0f, 11, false);
  EXPECT_EQ(out, in) << "p 0 must copy";
}

TEST(Dropout, OneSeedOneMaskOnAnyThreadCountAndAccumulateAdds) {
  const int64_t n = 100000;  // above the parallel threshold
  Rng rng(5);
  const auto in = ops::test::randn(size_t(n), rng);
  auto run = [&](uint64_t seed, int threads) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    std::vector<float> out(static_cast<size_t>(n));
    ops::dropout(in.data(), out.data(), n, 0.4f, seed, false);
    omp_set_num_threads(saved);
    return out;
  };
  const auto a = run(7, 1);
  EXPECT_EQ(run(7, 2), a);
  EXPECT_EQ(run(7, 1), a);
  EXPECT_NE(run(8, 1), a) << "another seed gave the same mask";

  auto acc = ops::test::randn(size_t(n), rng);
  const auto base = acc;
  ops::dropout(in.data(), acc.data(), n, 0.4f, 7, true);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(acc[size_t(i)], base[size_t(i)] + a[size_t(i)]) << "element " << i;

  // In place: the same mask applied to the buffer it reads.
  auto inplace = in;
  ops::dropout(inplace.data(), inplace.data(), n, 0.4f, 7, false);
  EXPECT_EQ(inplace, a);
}
