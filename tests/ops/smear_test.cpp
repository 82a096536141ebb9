// Previous-token smear: out[n] += g * wte[tokens[n-1]] except at a sample's
// first position. Forward against a plain loop (exact: one multiply-add per
// element), backward against central differences of a loss linear in each of
// wte and g, and bitwise the same for any thread count.
#include <gtest/gtest.h>
#include <omp.h>

#include <vector>

#include "core/random.h"
#include "ops/smear.h"

namespace shog::ops {
namespace {

std::vector<float> randn(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (auto& x : v) x = float(rng.normal());
  return v;
}

std::vector<int32_t> random_ids(int64_t N, int64_t V, Rng& rng) {
  std::vector<int32_t> t(static_cast<size_t>(N));
  for (auto& x : t) x = int32_t(rng.below(uint64_t(V)));
  return t;
}

// Two rows of T = 6; with positions, the first row holds samples of 2 and 4.
const std::vector<int32_t> kPos{0, 1, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5};
bool first_of_sample(const int32_t* pos, int64_t n, int64_t T) { return pos ? pos[n] == 0 : n % T == 0; }

TEST(Smear, ForwardAddsThePreviousTokensScaledRowWithinASample) {
  const int64_t N = 12, T = 6, C = 19, V = 7;
  Rng rng(1);
  auto wte = randn(V * C, rng), g = randn(C, rng), base = randn(N * C, rng);
  auto tok = random_ids(N, V, rng);
  for (const int32_t* pos : {static_cast<const int32_t*>(nullptr), kPos.data()}) {
    auto out = base;
    smear_forward(out.data(), tok.data(), pos, wte.data(), g.data(), N, T, C);
    for (int64_t n = 0; n < N; n++)
      for (int64_t c = 0; c < C; c++) {
        float want = base[n * C + c];
        if (!first_of_sample(pos, n, T)) want += g[c] * wte[tok[n - 1] * C + c];
        ASSERT_EQ(out[n * C + c], want) << "n=" << n << " c=" << c << (pos ? " packed" : "");
      }
  }
}

// Loss sum(out * R) in double. It is linear in wte for fixed g and in g for
// fixed wte, so central differences are exact but for rounding; 1e-5 absolute
// leaves ~100 float ulps for the kernel's float sums of a few O(1) terms.
TEST(Smear, BackwardMatchesFiniteDifferencesAndAccumulates) {
  const int64_t N = 12, T = 6, C = 19, V = 4;
  Rng rng(2);
  auto wte = randn(V * C, rng), g = randn(C, rng), R = randn(N * C, rng);
  auto tok = random_ids(N, V, rng);
  for (const int32_t* pos : {static_cast<const int32_t*>(nullptr), kPos.data()}) {
    auto dwte0 = randn(V * C, rng), dg0 = randn(C, rng);  // prior contents: the backward adds to them
    auto dwte = dwte0, dg = dg0;
    smear_backward(dwte.data(), dg.data(), R.data(), tok.data(), pos, wte.data(), g.data(), N, T, C);
    std::vector<double> w(wte.begin(), wte.end()), gd(g.begin(), g.end());
    auto loss = [&] {
      double s = 0;
      for (int64_t n = 0; n < N; n++)
        if (!first_of_sample(pos, n, T))
          for (int64_t c = 0; c < C; c++) s += gd[c] * w[tok[n - 1] * C + c] * double(R[n * C + c]);
      return s;
    };
    auto fd = [&](double& x) {
      const double h = 1e-3, keep = x;
      x = keep + h;
      const double lp = loss();
      x = keep - h;
      const double lm = loss();
      x = keep;
      return (lp - lm) / (2 * h);
    };
    for (int64_t i = 0; i < V * C; i++)
      ASSERT_NEAR(double(dwte[i]) - double(dwte0[i]), fd(w[size_t(i)]), 1e-5) << "dwte " << i;
    for (int64_t c = 0; c < C; c++) ASSERT_NEAR(double(dg[c]) - double(dg0[c]), fd(gd[size_t(c)]), 1e-5) << "dg " << c;
    // A frozen side (null) is skipped and the other still filled.
    auto dg2 = dg0;
    smear_backward(nullptr, dg2.data(), R.data(), tok.data(), pos, wte.data(), g.data(), N, T, C);
    for (int64_t c = 0; c < C; c++) ASSERT_EQ(dg2[c], dg[c]);
  }
}

TEST(Smear, BackwardIsThreadCountInvariant) {
  for (int64_t C : {int64_t(1), int64_t(37), int64_t(1000)}) {
    const int64_t N = 2048, T = 256, V = 8;
    Rng rng(3);
    auto wte = randn(V * C, rng), g = randn(C, rng), dout = randn(N * C, rng);
    auto tok = random_ids(N, V, rng);
    std::vector<float> want_w, want_g;
    const int saved = omp_get_max_threads();
    for (int threads : {1, 2, 3}) {
      omp_set_num_threads(threads);
      std::vector<float> dw(V * C, 0.0f), dg(C, 0.0f);
      smear_backward(dw.data(), dg.data(), dout.data(), tok.data(), nullptr, wte.data(), g.data(), N, T, C);
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
