// The chunked output head against a naive double-precision head (full logits,
// log-softmax), finite differences for its gradients, and the equivalences the
// trainers rely on: fused cross-entropy == logprobs + backward(g = -w), and
// ignored rows (target < 0 or weight 0) changing nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "ops/output_head.h"

namespace shog::ops {
namespace {

struct Head {
  int64_t N, C, V;
  std::vector<float> h, W;
  std::vector<int32_t> targets;
  Head(int64_t n, int64_t c, int64_t v, uint32_t seed) : N(n), C(c), V(v) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    h.resize(size_t(N * C));
    W.resize(size_t(V * C));
    for (auto& x : h) x = nd(rng);
    // Logits of a few units: softmax neither uniform nor one-hot.
    for (auto& x : W) x = 0.5f * nd(rng);
    targets.resize(size_t(N));
    for (auto& t : targets) t = int32_t(rng() % uint32_t(V));
  }
};

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> x(n);
  for (auto& e : x) e = nd(rng);
  return x;
}

// logp in double for every row (0 where target < 0).
std::vector<double> reference_logprobs(const std::vector<double>& h, const std::vector<double>& W,
                                       const std::vector<int32_t>& tg, int64_t N, int64_t C, int64_t V) {
  std::vector<double> out(size_t(N), 0.0), z(static_cast<size_t>(V));
  for (int64_t n = 0; n < N; ++n) {
    if (tg[size_t(n)] < 0) continue;
    double mx = -INFINITY;
    for (int64_t v = 0; v < V; ++v) {
      double acc = 0;
      for (int64_t c = 0; c < C; ++c) acc += h[size_t(n * C + c)] * W[size_t(v * C + c)];
      z[size_t(v)] = acc;
      mx = std::max(mx, acc);
    }
    double s = 0;
    for (int64_t v = 0; v < V; ++v) s += std::exp(z[size_t(v)] - mx);
    out[size_t(n)] = z[size_t(tg[size_t(n)])] - mx - std::log(s);
  }
  return out;
}

std::vector<double> to_double(const std::vector<float>& x) { return {x.begin(), x.end()}; }

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a[i]) - double(b[i])));
  return m;
}

// f32 logits are K=C dot products of unit-scale terms (error ~1e-6); the
// log-sum-exp adds a few ulp. 1e-5 is ten times that and far below the
// O(1) effect of a wrong target or a missing row.
TEST(OutputHead, LogprobsMatchNaiveAcrossChunks) {
  Head p(37, 24, 101, 1);  // 37 rows in chunks of 16: a partial last chunk
  p.targets[3] = -1;
  p.targets[20] = -1;
  OutputHeadWorkspace ws(p.C, p.V, 16);
  std::vector<float> logp(size_t(p.N), 99.0f);
  output_head_logprobs(logp.data(), p.h.data(), p.W.data(), DType::f32, p.targets.data(), p.N, p.C, p.V, ws);
  const auto ref = reference_logprobs(to_double(p.h), to_double(p.W), p.targets, p.N, p.C, p.V);
  for (int64_t n = 0; n < p.N; ++n) EXPECT_NEAR(logp[size_t(n)], ref[size_t(n)], 1e-5) << "row " << n;
  EXPECT_EQ(logp[3], 0.0f);
  EXPECT_EQ(logp[20], 0.0f);
}

// Central differences of L = sum_n g_n logp_n through the double reference;
// eps = 1e-3 on float inputs (the applied perturbation is measured), truncation
// ~1e-6. The kernel's float gradients are good to ~1e-6, so 5e-5 absolute.
TEST(OutputHead, BackwardMatchesFiniteDifferences) {
  Head p(7, 6, 13, 2);
  p.targets[4] = -1;  // ignored: its g must have no effect
  const auto g = randn(size_t(p.N), 3);
  OutputHeadWorkspace ws(p.C, p.V, 3);
  std::vector<float> dh(p.h.size(), 0.0f), dW(p.W.size(), 0.0f);
  output_head_backward(dh.data(), dW.data(), p.h.data(), p.W.data(), DType::f32, p.targets.data(), g.data(), p.N,
                       p.C, p.V, ws);

  auto loss = [&] {
    const auto lp = reference_logprobs(to_double(p.h), to_double(p.W), p.targets, p.N, p.C, p.V);
    double L = 0;
    for (int64_t n = 0; n < p.N; ++n) L += double(g[size_t(n)]) * lp[size_t(n)];
    return L;
  };
  auto check = [&](std::vector<float>& x, const std::vector<float>& grad, const char* name) {
    double max_err = 0, max_grad = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const float x0 = x[i];
      x[i] = x0 + 1e-3f;
      const double up = double(x[i]) - x0;
      const double lp = loss();
      x[i] = x0 - 1e-3f;
      const double down = x0 - double(x[i]);
      const double lm = loss();
      x[i] = x0;
      const double num = (lp - lm) / (up + down);
      max_err = std::max(max_err, std::abs(num - grad[i]));
      max_grad = std::max(max_grad, std::abs(num));
    }
    EXPECT_GT(max_grad, 0.05) << name;  // not vacuous
    EXPECT_LT(max_err, 5e-5) << name;
  };
  check(p.h, dh, "dh");
  check(p.W, dW, "dW");
  for (int64_t c = 0; c < p.C; ++c) EXPECT_EQ(dh[size_t(4 * p.C + c)], 0.0f);
}

TEST(OutputHead, BackwardAccumulatesIntoGradients) {
  Head p(9, 8, 17, 4);
  const auto g = randn(size_t(p.N), 5);
  OutputHeadWorkspace ws(p.C, p.V, 4);
  std::vector<float> dh0(p.h.size(), 0.0f), dW0(p.W.size(), 0.0f);
  output_head_backward(dh0.data(), dW0.data(), p.h.data(), p.W.data(), DType::f32, p.targets.data(), g.data(), p.N,
                       p.C, p.V, ws);
  std::vector<float> dh(p.h.size(), 1.0f), dW(p.W.size(), -2.0f);
  output_head_backward(dh.data(), dW.data(), p.h.data(), p.W.data(), DType::f32, p.targets.data(), g.data(), p.N,
                       p.C, p.V, ws);
  for (size_t i = 0; i < dh.size(); ++i) EXPECT_NEAR(dh[i], dh0[i] + 1.0f, 1e-6);
  for (size_t i = 0; i < dW.size(); ++i) EXPECT_NEAR(dW[i], dW0[i] - 2.0f, 1e-6);
}

// The fused pass runs the same gemms on the same rows as logprobs + backward,
// so only summation order inside the softmax can differ: 1e-6.
TEST(OutputHead, CrossEntropyEqualsLogprobsPlusBackward) {
  for (DType dt : {DType::f32, DType::bf16}) {
    Head p(45, 32, 211, 6);
    auto w = randn(size_t(p.N), 7, 0.1f);
    w[2] = 0.0f;
    p.targets[9] = -1;
    std::vector<bf16> Wb(p.W.size());
    for (size_t i = 0; i < Wb.size(); ++i) Wb[i] = f32_to_bf16(p.W[i]);
    const void* Wg = dt == DType::bf16 ? static_cast<const void*>(Wb.data()) : p.W.data();
    OutputHeadWorkspace ws(p.C, p.V, 16);

    std::vector<float> logp(size_t(p.N)), dh(p.h.size()), dW(p.W.size());
    const double loss = output_head_cross_entropy(logp.data(), dh.data(), dW.data(), p.h.data(), Wg, dt,
                                                  p.targets.data(), w.data(), p.N, p.C, p.V, ws);

    std::vector<float> logp2(size_t(p.N)), dh2(p.h.size()), dW2(p.W.size()), g(size_t(p.N));
    output_head_logprobs(logp2.data(), p.h.data(), Wg, dt, p.targets.data(), p.N, p.C, p.V, ws);
    for (int64_t n = 0; n < p.N; ++n) g[size_t(n)] = -w[size_t(n)];
    output_head_backward(dh2.data(), dW2.data(), p.h.data(), Wg, dt, p.targets.data(), g.data(), p.N, p.C, p.V, ws);
    double loss2 = 0;
    for (int64_t n = 0; n < p.N; ++n) loss2 -= double(w[size_t(n)]) * logp2[size_t(n)];

    EXPECT_NEAR(loss, loss2, 1e-6 * std::max(1.0, std::abs(loss2)));
    EXPECT_LT(max_abs_diff(logp, logp2), 1e-6);
    EXPECT_LT(max_abs_diff(dh, dh2), 1e-6);
    EXPECT_LT(max_abs_diff(dW, dW2), 1e-6);
    EXPECT_NE(logp[2], 0.0f);  // weight 0 still reports its logp
    EXPECT_EQ(logp[9], 0.0f);  // target -1 reports 0
  }
}

// Rows with target -1 or weight 0 must be exactly absent: the result equals
// running the head on the remaining rows alone. The masked run gathers rows
// (and pads the chunk), the compact one does not, so the gemms differ in
// shape; 1e-5 covers the different float summation order.
TEST(OutputHead, IgnoredRowsContributeNothing) {
  Head p(40, 16, 97, 8);
  auto w = randn(size_t(p.N), 9, 0.2f);
  std::vector<int64_t> keep;
  for (int64_t n = 0; n < p.N; ++n) {
    if (n % 3 == 1) p.targets[size_t(n)] = -1;
    else if (n % 5 == 2) w[size_t(n)] = 0.0f;
    else keep.push_back(n);
  }
  OutputHeadWorkspace ws(p.C, p.V, 32);
  std::vector<float> dh(p.h.size(), 0.0f), dW(p.W.size(), 0.0f);
  const double loss = output_head_cross_entropy(nullptr, dh.data(), dW.data(), p.h.data(), p.W.data(), DType::f32,
                                                p.targets.data(), w.data(), p.N, p.C, p.V, ws);

  const int64_t M = int64_t(keep.size());
  std::vector<float> hk(size_t(M * p.C)), wk(static_cast<size_t>(M)), dhk(size_t(M * p.C), 0.0f), dWk(p.W.size(), 0.0f);
  std::vector<int32_t> tk(static_cast<size_t>(M));
  for (int64_t i = 0; i < M; ++i) {
    const int64_t n = keep[size_t(i)];
    std::copy(p.h.begin() + n * p.C, p.h.begin() + (n + 1) * p.C, hk.begin() + i * p.C);
    tk[size_t(i)] = p.targets[size_t(n)];
    wk[size_t(i)] = w[size_t(n)];
  }
  const double loss_k = output_head_cross_entropy(nullptr, dhk.data(), dWk.data(), hk.data(), p.W.data(), DType::f32,
                                                  tk.data(), wk.data(), M, p.C, p.V, ws);
  EXPECT_NEAR(loss, loss_k, 1e-5 * std::abs(loss_k));
  EXPECT_LT(max_abs_diff(dW, dWk), 1e-5);
  for (int64_t n = 0, i = 0; n < p.N; ++n)
    for (int64_t c = 0; c < p.C; ++c) {
      const bool kept = i < M && keep[size_t(i)] == n;
      const float expect = kept ? dhk[size_t(i * p.C + c)] : 0.0f;
      EXPECT_NEAR(dh[size_t(n * p.C + c)], expect, 1e-5) << "row " << n;
      if (kept && c == p.C - 1) ++i;
    }
}

// bf16 GEMM inputs carry 8 bits of mantissa (relative error 2^-9 per value),
// so a K=C=64 dot product of unit-scale terms is off by ~sqrt(64) * 2^-9 * |term|
// ~ 0.02 at worst. logp inherits that; 0.05 absolute catches a wrong formula
// (errors of O(1)) without flaking. Gradients are bounded the same way relative
// to their own scale.
TEST(OutputHead, Bf16WithinBf16ToleranceOfF32) {
  Head p(50, 64, 301, 10);
  for (auto& x : p.W) x *= 0.25f;  // keep logits O(1) so the tolerance is meaningful
  auto w = randn(size_t(p.N), 11, 0.1f);
  std::vector<bf16> Wb(p.W.size());
  for (size_t i = 0; i < Wb.size(); ++i) Wb[i] = f32_to_bf16(p.W[i]);
  OutputHeadWorkspace ws(p.C, p.V, 32);
  std::vector<float> lp32(size_t(p.N)), dh32(p.h.size()), dW32(p.W.size());
  std::vector<float> lp16(size_t(p.N)), dh16(p.h.size()), dW16(p.W.size());
  const double l32 = output_head_cross_entropy(lp32.data(), dh32.data(), dW32.data(), p.h.data(), p.W.data(),
                                               DType::f32, p.targets.data(), w.data(), p.N, p.C, p.V, ws);
  const double l16 = output_head_cross_entropy(lp16.data(), dh16.data(), dW16.data(), p.h.data(), Wb.data(),
                                               DType::bf16, p.targets.data(), w.data(), p.N, p.C, p.V, ws);
  EXPECT_NEAR(l16, l32, 0.05 * std::max(1.0, std::abs(l32)));
  EXPECT_LT(max_abs_diff(lp16, lp32), 0.05);
  auto max_abs = [](const std::vector<float>& x) {
    double m = 0;
    for (float e : x) m = std::max(m, double(std::abs(e)));
    return m;
  };
  EXPECT_LT(max_abs_diff(dh16, dh32), 0.02 * max_abs(dh32));
  EXPECT_LT(max_abs_diff(dW16, dW32), 0.02 * max_abs(dW32));
}

TEST(OutputHead, RejectsTargetOutsideVocab) {
  Head p(4, 8, 10, 12);
  p.targets[2] = 10;
  OutputHeadWorkspace ws(p.C, p.V, 4);
  std::vector<float> logp(4);
  EXPECT_THROW(output_head_logprobs(logp.data(), p.h.data(), p.W.data(), DType::f32, p.targets.data(), p.N, p.C,
                                    p.V, ws),
               Error);
}

}  // namespace
}  // namespace shog::ops
