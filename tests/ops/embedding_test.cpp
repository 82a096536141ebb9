// Embedding lookup: forward is a copy, so it must be exact; backward must
// scatter-add every occurrence of a token id, accumulate onto what the buffer
// held, and be bitwise reproducible whatever the thread count.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "core/random.h"
#include "ops_test_util.h"
#include "ops/embedding.h"

namespace shog::ops {
namespace {

using test::randn;

std::vector<int32_t> tokens_with_repeats(int64_t N, int64_t V, Rng& rng) {
  std::vector<int32_t> t(N);
  for (auto& x : t) x = int32_t(rng.below(uint64_t(V)));
  t[N - 1] = t[0];  // at least one repeat, whatever the draw
  return t;
}

TEST(Embedding, ForwardCopiesTheTokensRowExactly) {
  const int64_t N = 9, C = 37, V = 11;
  Rng rng(1);
  auto wte = randn(V * C, rng);
  auto tok = tokens_with_repeats(N, V, rng);
  std::vector<float> out(N * C, -1.0f);
  embedding_forward(out.data(), tok.data(), wte.data(), N, C);
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++) ASSERT_EQ(out[n * C + c], wte[tok[n] * C + c]) << "n=" << n << " c=" << c;
}

// Loss sum(out * R) in double; central differences on every element of wte.
// The loss is linear in wte, so the difference quotient is exact up to double
// rounding and the only error left is the kernel's float summation of a few
// O(1) terms: 1e-5 absolute is ~100 float ulps of headroom.
TEST(Embedding, BackwardMatchesFiniteDifferencesAndAccumulates) {
  const int64_t N = 12, C = 37, V = 5;
  Rng rng(2);
  auto wte = randn(V * C, rng);
  auto R = randn(N * C, rng);
  auto tok = tokens_with_repeats(N, V, rng);
  auto dwte0 = randn(V * C, rng);  // prior contents: the backward must add to them
  auto dwte = dwte0;
  embedding_backward(dwte.data(), R.data(), tok.data(), N, C);

  std::vector<double> w(wte.begin(), wte.end());
  auto loss = [&] {
    double s = 0;
    for (int64_t n = 0; n < N; n++)
      for (int64_t c = 0; c < C; c++) s += w[tok[n] * C + c] * double(R[n * C + c]);
    return s;
  };
  const double h = 1e-3;
  for (int64_t i = 0; i < V * C; i++) {
    const double keep = w[i];
    w[i] = keep + h;
    const double lp = loss();
    w[i] = keep - h;
    const double lm = loss();
    w[i] = keep;
    const double fd = (lp - lm) / (2 * h);
    ASSERT_NEAR(double(dwte[i]) - double(dwte0[i]), fd, 1e-5) << "element " << i;
  }
}

// Many rows hitting few ids is the case where a row-parallel scatter would
// race. The result must equal a sequential sum in row order bit for bit, with
// one thread or two, and for widths that do and do not fill whole lines.
TEST(Embedding, BackwardIsDeterministicAndThreadCountInvariant) {
  for (int64_t C : {int64_t(1), int64_t(37), int64_t(1000)}) {
    const int64_t N = 4096, V = 8;
    Rng rng(3);
    auto dout = randn(N * C, rng);
    auto tok = tokens_with_repeats(N, V, rng);
    std::vector<float> expect(V * C, 0.0f);
    for (int64_t n = 0; n < N; n++)
      for (int64_t c = 0; c < C; c++) expect[tok[n] * C + c] += dout[n * C + c];

    const int saved = omp_get_max_threads();
    for (int threads : {1, 2, 3}) {
      omp_set_num_threads(threads);
      std::vector<float> got(V * C, 0.0f);
      embedding_backward(got.data(), dout.data(), tok.data(), N, C);
      for (int64_t i = 0; i < V * C; i++)
        ASSERT_EQ(got[i], expect[i]) << "C=" << C << " threads=" << threads << " i=" << i;
    }
    omp_set_num_threads(saved);
  }
}

// NEFTune's noise: uniform on [-m, m) (so mean 0, variance m^2/3), added to
// what the buffer held, the same bits for one seed at any thread count, and a
// different draw for another seed.
TEST(Embedding, NoiseIsUniformOnPlusMinusMagnitudeAndReproducible) {
  const int64_t n = 200000;
  const float m = 0.25f;
  Rng rng(5);
  auto x = randn(n, rng);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  auto a = x;
  embedding_noise(a.data(), n, m, 42);
  omp_set_num_threads(2);
  auto b = x;
  embedding_noise(b.data(), n, m, 42);
  omp_set_num_threads(saved);
  auto c = x;
  embedding_noise(c.data(), n, m, 43);

  double sum = 0, sq = 0, lo = 1, hi = -1;
  int64_t differ = 0, quarter[4] = {0, 0, 0, 0};
  for (int64_t i = 0; i < n; i++) {
    ASSERT_EQ(a[i], b[i]) << i;
    const double d = double(a[i]) - double(x[i]);
    sum += d, sq += d * d, lo = std::min(lo, d), hi = std::max(hi, d);
    quarter[std::clamp(int((d / m + 1.0) * 2.0), 0, 3)]++;
    differ += c[i] != a[i];
  }
  const double mean = sum / n, var = sq / n - mean * mean;
  EXPECT_GE(lo, -m * (1 + 1e-5));
  EXPECT_LT(hi, m * (1 + 1e-5));
  EXPECT_LT(lo, -0.99 * m);  // the draws reach both ends
  EXPECT_GT(hi, 0.99 * m);
  // Standard errors: m/sqrt(3n) = 3.2e-4 for the mean, ~1e-4 for the variance.
  EXPECT_NEAR(mean, 0.0, 2e-3);
  EXPECT_NEAR(var, double(m) * m / 3.0, 1e-3);
  for (int64_t q : quarter) EXPECT_NEAR(double(q) / n, 0.25, 0.01);
  EXPECT_GT(differ, n * 99 / 100);
}

}  // namespace
}  // namespace shog::ops
