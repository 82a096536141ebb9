// AdamW against a hand-written double-precision transcription of
// torch.optim.AdamW, over several steps, with decay off and on and with a
// gradient scale; sum_squares against a double sum; clip_scale against
// torch.nn.utils.clip_grad_norm_'s formula.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <vector>

#include "core/random.h"
#include "ops_test_util.h"
#include "ops/adamw.h"

namespace shog::ops {
namespace {

using test::randn;

struct RefState {
  std::vector<double> p, m, v;
};

// torch.optim.AdamW (single-tensor path), line by line.
void reference_step(RefState& s, const std::vector<float>& g, const AdamWHyper& h, int64_t step, bool decay,
                    double grad_scale) {
  const double lr = h.lr, b1 = h.beta1, b2 = h.beta2, eps = h.eps, wd = h.weight_decay;
  for (size_t i = 0; i < s.p.size(); i++) {
    const double gi = double(g[i]) * grad_scale;
    if (decay) s.p[i] *= 1.0 - lr * wd;
    s.m[i] = b1 * s.m[i] + (1 - b1) * gi;
    s.v[i] = b2 * s.v[i] + (1 - b2) * gi * gi;
    const double bc1 = 1 - std::pow(b1, double(step)), bc2 = 1 - std::pow(b2, double(step));
    const double denom = std::sqrt(s.v[i]) / std::sqrt(bc2) + eps;
    s.p[i] -= lr / bc1 * s.m[i] / denom;
  }
}

// Parameters are O(1) and each step moves them by at most ~lr; the float
// kernel differs from double by a few ulps of p per step, so after 6 steps
// 2e-6 absolute is safe, while a missing bias correction or decay applied
// to the wrong quantity moves p by ~lr * 0.1 = 1e-3 or more.
void run_steps(bool decay, float grad_scale) {
  const int64_t n = 1000;
  Rng rng(40);
  AdamWHyper h;
  h.lr = 1e-2f;
  h.weight_decay = 0.1f;
  auto p = randn(n, rng);
  std::vector<float> m(n, 0.0f), v(n, 0.0f);
  RefState ref{{p.begin(), p.end()}, std::vector<double>(n), std::vector<double>(n)};
  for (int64_t step = 1; step <= 6; step++) {
    auto g = randn(n, rng, 0.5);
    g[0] = 0.0f;  // zero gradient: only decay and momentum act
    adamw_update(p.data(), g.data(), m.data(), v.data(), n, h, step, decay, grad_scale);
    reference_step(ref, g, h, step, decay, grad_scale);
    for (int64_t i = 0; i < n; i++) {
      ASSERT_NEAR(p[i], ref.p[i], 2e-6) << "step " << step << " p[" << i << "]";
      ASSERT_NEAR(m[i], ref.m[i], 1e-6) << "step " << step << " m[" << i << "]";
      ASSERT_NEAR(v[i], ref.v[i], 1e-6) << "step " << step << " v[" << i << "]";
    }
  }
}

TEST(AdamW, MatchesTorchFormulaWithoutDecay) { run_steps(false, 1.0f); }
TEST(AdamW, MatchesTorchFormulaWithDecay) { run_steps(true, 1.0f); }
TEST(AdamW, GradScaleActsAsScaledGradient) { run_steps(true, 0.37f); }

// Step 1 in closed form: m_hat = g and v_hat = g^2, so the update is
// lr * g / (|g| + eps) ~ lr * sign(g), after decay p *= 1 - lr*wd.
TEST(AdamW, FirstStepIsSignOfGradient) {
  AdamWHyper h;
  h.lr = 0.5f;
  h.weight_decay = 0.2f;
  std::vector<float> p = {1.0f, 1.0f, -2.0f}, g = {3.0f, -1e-3f, 0.0f}, m(3, 0.0f), v(3, 0.0f);
  adamw_update(p.data(), g.data(), m.data(), v.data(), 3, h, 1, true, 1.0f);
  EXPECT_NEAR(p[0], 0.9f - 0.5f, 1e-6);
  EXPECT_NEAR(p[1], 0.9f + 0.5f * (1e-3 / (1e-3 + 1e-8)), 1e-6);
  EXPECT_NEAR(p[2], -2.0f * 0.9f, 1e-6);
}

// n spans many blocks and is not a multiple of anything; the double sum of
// float squares is exact to ~1e-16 relative, so 1e-12 relative catches any
// float accumulation (which would be off by ~1e-5 at this n).
TEST(AdamW, SumSquaresMatchesDoubleAndIsThreadCountInvariant) {
  const int64_t n = 3'000'017;
  Rng rng(41);
  auto g = randn(n, rng);
  long double want = 0;
  for (float x : g) want += (long double)x * x;
  const int saved = omp_get_max_threads();
  double first = -1;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    const double got = sum_squares(g.data(), n);
    EXPECT_NEAR(got, double(want), 1e-12 * double(want)) << "threads " << threads;
    if (first < 0) first = got;
    EXPECT_EQ(got, first) << "threads " << threads;
  }
  omp_set_num_threads(saved);
  EXPECT_EQ(sum_squares(g.data(), 0), 0.0);
  EXPECT_EQ(sum_squares(g.data(), 1), double(g[0]) * double(g[0]));
}

TEST(AdamW, ClipScaleFollowsClipGradNorm) {
  EXPECT_FLOAT_EQ(clip_scale(2.0, 1.0f), 1.0f / (2.0f + 1e-6f));  // too large: scaled down
  EXPECT_EQ(clip_scale(0.5, 1.0f), 1.0f);                          // below the limit: untouched
  EXPECT_EQ(clip_scale(0.0, 1.0f), 1.0f);                          // zero norm: no division blow-up
  EXPECT_EQ(clip_scale(1.0, 1.0f), std::min(1.0f, 1.0f / (1.0f + 1e-6f)));  // at the limit: the 1e-6 shows
  EXPECT_LT(clip_scale(1.0, 1.0f), 1.0f);
  EXPECT_EQ(clip_scale(123.0, 0.0f), 1.0f);   // disabled
  EXPECT_EQ(clip_scale(123.0, -1.0f), 1.0f);  // disabled
  EXPECT_TRUE(std::isnan(clip_scale(std::nan(""), 1.0f)));  // NaN norm propagates, as in torch
}

}  // namespace
}  // namespace shog::ops
