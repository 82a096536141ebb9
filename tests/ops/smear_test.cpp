// Previous-token smear: out[n] += g * wte[prev[n]] for rows with prev[n] >= 0
// (which token came before a row, and where samples start, is the model's
// business: tests/model/transformer_packing_test.cpp and the decode tests).
// Forward against a plain loop (exact: one multiply-add per element),
// backward against central differences of a loss linear in each of wte and
// g, and bitwise the same for any thread count.
#include <gtest/gtest.h>
#include <omp.h>

#include <vector>

#include "core/random.h"
#include "ops_test_util.h"
#include "ops/smear.h"

namespace shog::ops {
namespace {

using test::randn;

// Previous-token ids with about one row in four at a sample's start (-1).
std::vector<int32_t> random_prev(int64_t N, int64_t V, Rng& rng) {
  std::vector<int32_t> t(static_cast<size_t>(N));
  for (auto& x : t) x = rng.below(4) == 0 ? -1 : int32_t(rng.below(uint64_t(V)));
  t[0] = -1;
  return t;
}

TEST(Smear, ForwardAddsThePreviousTokensScaledRow) {
  const int64_t N = 12, C = 19, V = 7;
  Rng rng(1);
  auto wte = randn(V * C, rng), g = randn(C, rng), base = randn(N * C, rng);
  auto prev = random_prev(N, V, rng);
  auto out = base;
  smear_forward(out.data(), prev.data(), wte.data(), g.data(), N, C);
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++) {
      float want = base[n * C + c];
      if (prev[n] >= 0) want += g[c] * wte[prev[n] * C + c];
      ASSERT_EQ(out[n * C + c], want) << "n=" << n << " c=" << c;
    }
}

// Loss sum(out * R) in double. It is linear in wte for fixed g and in g for
// fixed wte, so central differences are exact but for rounding; 1e-5 absolute
// leaves ~100 float ulps for the kernel's float sums of a few O(1) terms.
TEST(Smear, BackwardMatchesFiniteDifferencesAndAccumulates) {
  const int64_t N = 12, C = 19, V = 4;
  Rng rng(2);
  auto wte = randn(V * C, rng), g = randn(C, rng), R = randn(N * C, rng);
  auto prev = random_prev(N, V, rng);
  {
    auto dwte0 = randn(V * C, rng), dg0 = randn(C, rng);  // prior contents: the backward adds to them
    auto dwte = dwte0, dg = dg0;
    smear_backward(dwte.data(), dg.data(), R.data(), prev.data(), wte.data(), g.data(), N, C);
    std::vector<double> w(wte.begin(), wte.end()), gd(g.begin(), g.end());
    auto loss = [&] {
      double s = 0;
      for (int64_t n = 0; n < N; n++)
        if (prev[n] >= 0)
          for (int64_t c = 0; c < C; c++) s += gd[c] * w[prev[n] * C + c] * double(R[n * C + c]);
      return s;
    };
    auto fd = [&](double& x) { return test::central_difference(loss, x, 1e-3); };
    for (int64_t i = 0; i < V * C; i++)
      ASSERT_NEAR(double(dwte[i]) - double(dwte0[i]), fd(w[size_t(i)]), 1e-5) << "dwte " << i;
    for (int64_t c = 0; c < C; c++) ASSERT_NEAR(double(dg[c]) - double(dg0[c]), fd(gd[size_t(c)]), 1e-5) << "dg " << c;
    // A frozen side (null) is skipped and the other still filled.
    auto dg2 = dg0;
    smear_backward(nullptr, dg2.data(), R.data(), prev.data(), wte.data(), g.data(), N, C);
    for (int64_t c = 0; c < C; c++) ASSERT_EQ(dg2[c], dg[c]);
  }
}

TEST(Smear, BackwardIsThreadCountInvariant) {
  for (int64_t C : {int64_t(1), int64_t(37), int64_t(1000)}) {
    const int64_t N = 2048, V = 8;
    Rng rng(3);
    auto wte = randn(V * C, rng), g = randn(C, rng), dout = randn(N * C, rng);
    auto prev = random_prev(N, V, rng);
    std::vector<float> want_w, want_g;
    const int saved = omp_get_max_threads();
    for (int threads : {1, 2, 3}) {
      omp_set_num_threads(threads);
      std::vector<float> dw(V * C, 0.0f), dg(C, 0.0f);
      smear_backward(dw.data(), dg.data(), dout.data(), prev.data(), wte.data(), g.data(), N, C);
      if (threads == 1) {
        want_w = dw, want_g = dg;
        continue;
      }
      ASSERT_EQ(dw, want_w) << "C=" << C << " threads=" << threads;
      ASSERT_EQ(dg, want_g) << "C=" << C << " threads=" << threads;
    }
    omp_set_num_threads(saved);
  }
}

}  // namespace
}  // namespace shog::ops
