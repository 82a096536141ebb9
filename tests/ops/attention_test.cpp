// Flash attention against a naive double-precision attention: the full T x T
// softmax with a causal mask, and its analytic gradient. The gradients are
// also checked against central finite differences of the reference, so the
// reference gradient is not the only witness.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "ops/attention.h"

namespace shog::ops {
namespace {

struct Layout {
  int64_t B, T, H, KVH, hd;
  bool fused = false;  // q, k, v as views into one [B*T, (H+2KVH)*hd + pad] buffer
  int64_t pad = 0;     // extra elements per token in the fused buffer
};

// Inputs and their gradients in the layout the op sees.
struct Problem {
  Layout L;
  AttentionShape s;
  std::vector<float> qkv, dqkv;  // fused storage, or q|k|v back to back
  float *q, *k, *v, *dq, *dk, *dv;
  std::vector<int64_t> first_key;  // packed: first key token t may see, per b*T+t (empty: 0)

  explicit Problem(const Layout& l, uint32_t seed) : L(l) {
    const int64_t row = (l.H + 2 * l.KVH) * l.hd + l.pad;
    s = {l.B, l.T, l.H, l.KVH, l.hd, 0, 0};
    size_t n;
    int64_t q_off, k_off, v_off;
    if (l.fused) {
      n = size_t(l.B * l.T * row);
      s.q_stride = s.kv_stride = row;
      q_off = 0, k_off = l.H * l.hd, v_off = (l.H + l.KVH) * l.hd;
    } else {
      const int64_t nq = l.B * l.T * l.H * l.hd, nkv = l.B * l.T * l.KVH * l.hd;
      n = size_t(nq + 2 * nkv);
      s.q_stride = l.H * l.hd, s.kv_stride = l.KVH * l.hd;
      q_off = 0, k_off = nq, v_off = nq + nkv;
    }
    qkv.assign(n, 0.0f);
    dqkv.assign(n, 0.0f);
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (auto& x : qkv) x = nd(rng);
    if (l.fused && l.pad > 0)  // pad lanes are zero so a stray write shows
      for (int64_t r = 0; r < l.B * l.T; ++r)
        for (int64_t j = row - l.pad; j < row; ++j) qkv[size_t(r * row + j)] = 0.0f;
    q = qkv.data() + q_off, k = qkv.data() + k_off, v = qkv.data() + v_off;
    dq = dqkv.data() + q_off, dk = dqkv.data() + k_off, dv = dqkv.data() + v_off;
  }
  double Q(int64_t b, int64_t t, int64_t h, int64_t d) const { return q[(b * L.T + t) * s.q_stride + h * L.hd + d]; }
  double K(int64_t b, int64_t t, int64_t h, int64_t d) const { return k[(b * L.T + t) * s.kv_stride + h * L.hd + d]; }
  double V(int64_t b, int64_t t, int64_t h, int64_t d) const { return v[(b * L.T + t) * s.kv_stride + h * L.hd + d]; }
  int64_t j0(int64_t b, int64_t t) const { return first_key.empty() ? 0 : first_key[size_t(b * L.T + t)]; }
};

// Naive attention in double, [B, T, H, hd] out and [B, H, T] lse.
void reference_forward(const Problem& p, std::vector<double>& out, std::vector<double>& lse) {
  const auto& L = p.L;
  const int64_t group = L.H / L.KVH;
  const double scale = 1.0 / std::sqrt(double(L.hd));
  out.assign(size_t(L.B * L.T * L.H * L.hd), 0.0);
  lse.assign(size_t(L.B * L.H * L.T), 0.0);
  std::vector<double> sc(size_t(L.T));
  for (int64_t b = 0; b < L.B; ++b)
    for (int64_t h = 0; h < L.H; ++h)
      for (int64_t t = 0; t < L.T; ++t) {
        double mx = -INFINITY;
        const int64_t j0 = p.j0(b, t);
        for (int64_t j = j0; j <= t; ++j) {
          double acc = 0;
          for (int64_t d = 0; d < L.hd; ++d) acc += p.Q(b, t, h, d) * p.K(b, j, h / group, d);
          sc[size_t(j)] = acc * scale;
          mx = std::max(mx, sc[size_t(j)]);
        }
        double sum = 0;
        for (int64_t j = j0; j <= t; ++j) sum += std::exp(sc[size_t(j)] - mx);
        lse[size_t((b * L.H + h) * L.T + t)] = mx + std::log(sum);
        for (int64_t j = j0; j <= t; ++j) {
          const double pr = std::exp(sc[size_t(j)] - mx) / sum;
          for (int64_t d = 0; d < L.hd; ++d)
            out[size_t(((b * L.T + t) * L.H + h) * L.hd + d)] += pr * p.V(b, j, h / group, d);
        }
      }
}

// Analytic gradient of the naive attention, accumulated into fused-layout
// double buffers indexed like p.qkv (so d(k) lands where k lives).
void reference_backward(const Problem& p, const std::vector<double>& dout, std::vector<double>& g) {
  const auto& L = p.L;
  const int64_t group = L.H / L.KVH;
  const double scale = 1.0 / std::sqrt(double(L.hd));
  g.assign(p.qkv.size(), 0.0);
  auto at = [&](const float* base, int64_t b, int64_t t, int64_t h, int64_t stride) {
    return size_t(base - p.qkv.data()) + size_t((b * L.T + t) * stride + h * L.hd);
  };
  std::vector<double> pr(size_t(L.T)), dp(size_t(L.T));
  for (int64_t b = 0; b < L.B; ++b)
    for (int64_t h = 0; h < L.H; ++h) {
      const int64_t kh = h / group;
      for (int64_t t = 0; t < L.T; ++t) {
        double mx = -INFINITY;
        const int64_t j0 = p.j0(b, t);
        for (int64_t j = j0; j <= t; ++j) {
          double acc = 0;
          for (int64_t d = 0; d < L.hd; ++d) acc += p.Q(b, t, h, d) * p.K(b, j, kh, d);
          pr[size_t(j)] = acc * scale;
          mx = std::max(mx, pr[size_t(j)]);
        }
        double sum = 0;
        for (int64_t j = j0; j <= t; ++j) sum += (pr[size_t(j)] = std::exp(pr[size_t(j)] - mx));
        const double* go = dout.data() + ((b * L.T + t) * L.H + h) * L.hd;
        double pdp = 0;
        for (int64_t j = j0; j <= t; ++j) {
          pr[size_t(j)] /= sum;
          double acc = 0;
          for (int64_t d = 0; d < L.hd; ++d) acc += go[d] * p.V(b, j, kh, d);
          dp[size_t(j)] = acc;
          pdp += pr[size_t(j)] * acc;
        }
        for (int64_t j = j0; j <= t; ++j) {
          const double ds = pr[size_t(j)] * (dp[size_t(j)] - pdp) * scale;
          for (int64_t d = 0; d < L.hd; ++d) {
            g[at(p.q, b, t, h, p.s.q_stride) + size_t(d)] += ds * p.K(b, j, kh, d);
            g[at(p.k, b, j, kh, p.s.kv_stride) + size_t(d)] += ds * p.Q(b, t, h, d);
            g[at(p.v, b, j, kh, p.s.kv_stride) + size_t(d)] += pr[size_t(j)] * go[d];
          }
        }
      }
    }
}

std::vector<float> random_vec(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(n);
  for (auto& e : x) e = nd(rng);
  return x;
}

void run_forward(Problem& p, std::vector<float>& out, std::vector<float>& lse) {
  out.assign(size_t(p.L.B * p.L.T * p.L.H * p.L.hd), 0.0f);
  lse.assign(size_t(p.L.B * p.L.H * p.L.T), 0.0f);
  attention_forward(out.data(), lse.data(), p.q, p.k, p.v, p.s);
}

// Forward in float against double: scores are O(sqrt(hd)) so the float error of
// a dot product is ~1e-6 relative; 2e-5 absolute on unit-scale outputs leaves
// headroom for the online rescaling yet catches any wrong weight (a single
// mis-masked key moves outputs by ~1e-2).
void expect_forward_matches(const Layout& l, uint32_t seed) {
  Problem p(l, seed);
  std::vector<float> out, lse;
  run_forward(p, out, lse);
  std::vector<double> ro, rl;
  reference_forward(p, ro, rl);
  double max_err = 0;
  for (size_t i = 0; i < ro.size(); ++i) max_err = std::max(max_err, std::abs(ro[i] - out[i]));
  EXPECT_LT(max_err, 2e-5) << "out B=" << l.B << " T=" << l.T << " H=" << l.H << " KVH=" << l.KVH;
  double lse_err = 0;
  for (size_t i = 0; i < rl.size(); ++i) lse_err = std::max(lse_err, std::abs(rl[i] - lse[i]));
  EXPECT_LT(lse_err, 2e-5) << "lse";
}

TEST(Attention, ForwardMatchesNaiveMultiHead) { expect_forward_matches({2, 70, 3, 3, 16}, 1); }
TEST(Attention, ForwardMatchesNaiveGqaTwoGroups) { expect_forward_matches({2, 100, 4, 2, 64}, 2); }
TEST(Attention, ForwardMatchesNaiveGqaOneKvHead) { expect_forward_matches({1, 130, 4, 1, 64}, 3); }
TEST(Attention, ForwardMatchesNaiveSingleToken) { expect_forward_matches({3, 1, 4, 2, 64}, 4); }
TEST(Attention, ForwardMatchesNaiveHead128) { expect_forward_matches({1, 65, 2, 1, 128}, 5); }
TEST(Attention, ForwardMatchesNaiveOddHeadSize) { expect_forward_matches({1, 67, 2, 2, 24}, 6); }
// Above 128 the kernel leaves its register-blocked path for a generic one.
TEST(Attention, ForwardMatchesNaiveWideHead) { expect_forward_matches({1, 70, 2, 1, 144}, 10); }
TEST(Attention, ForwardMatchesNaiveTileMultiple) { expect_forward_matches({1, 128, 2, 1, 64}, 7); }
TEST(Attention, ForwardReadsFusedQkvViews) { expect_forward_matches({2, 75, 4, 2, 64, true, 5}, 8); }

TEST(Attention, FirstTokenOutputIsItsValue) {
  // Causality at its sharpest: token 0 sees only key 0, whatever the scores.
  Problem p({1, 5, 2, 1, 16}, 9);
  std::vector<float> out, lse;
  run_forward(p, out, lse);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t d = 0; d < 16; ++d) EXPECT_FLOAT_EQ(out[size_t(h * 16 + d)], p.v[d]);
}

// Kernel backward against the analytic double gradient. Gradients sum T terms
// of unit-scale products, so 1e-4 absolute is ~10x the float error we see.
void expect_backward_matches(const Layout& l, uint32_t seed) {
  Problem p(l, seed);
  std::vector<float> out, lse;
  run_forward(p, out, lse);
  const auto dout = random_vec(out.size(), seed + 100);
  // Accumulation contract: the op adds, so pre-fill and subtract afterwards.
  std::fill(p.dqkv.begin(), p.dqkv.end(), 0.5f);
  attention_backward(p.dq, p.dk, p.dv, dout.data(), out.data(), lse.data(), p.q, p.k, p.v, p.s);
  std::vector<double> g;
  reference_backward(p, std::vector<double>(dout.begin(), dout.end()), g);
  double max_err = 0, max_ref = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    max_err = std::max(max_err, std::abs(g[i] - (double(p.dqkv[i]) - 0.5)));
    max_ref = std::max(max_ref, std::abs(g[i]));
  }
  EXPECT_GT(max_ref, 0.1);  // the comparison is not vacuous
  EXPECT_LT(max_err, 1e-4) << "B=" << l.B << " T=" << l.T << " H=" << l.H << " KVH=" << l.KVH;
}

TEST(Attention, BackwardMatchesNaiveMultiHead) { expect_backward_matches({2, 70, 3, 3, 16}, 11); }
TEST(Attention, BackwardMatchesNaiveGqaTwoGroups) { expect_backward_matches({2, 100, 4, 2, 64}, 12); }
TEST(Attention, BackwardMatchesNaiveGqaOneKvHead) { expect_backward_matches({2, 150, 4, 1, 64}, 13); }
TEST(Attention, BackwardMatchesNaiveSingleToken) { expect_backward_matches({2, 1, 4, 2, 64}, 14); }
TEST(Attention, BackwardMatchesNaiveHead128) { expect_backward_matches({1, 70, 2, 1, 128}, 15); }
TEST(Attention, BackwardMatchesNaiveOddHeadSize) { expect_backward_matches({1, 67, 2, 2, 24}, 16); }
TEST(Attention, BackwardMatchesNaiveWideHead) { expect_backward_matches({1, 70, 2, 1, 144}, 20); }
TEST(Attention, BackwardWritesFusedQkvViews) { expect_backward_matches({2, 75, 4, 2, 64, true, 5}, 17); }

// Packed rows: samples back to back in a row must not see each other. The
// reference masks keys before each token's sample start; segments longer
// than a tile and a row of one sample check the tiling and the bookkeeping.
TEST(Attention, PackedSamplesDoNotAttendAcrossBoundaries) {
  for (const Layout& l : {Layout{2, 150, 4, 2, 64}, Layout{1, 40, 2, 1, 24, true, 3}}) {
    Problem p(l, 31);
    std::vector<int32_t> segs = l.T == 150 ? std::vector<int32_t>{5, 70, 1, 74, 150}
                                           : std::vector<int32_t>{13, 27};
    int64_t g = 0;
    for (int32_t len : segs)
      for (int32_t i = 0; i < len; ++i, ++g) p.first_key.push_back(g % l.T - i);
    std::vector<float> out(size_t(l.B * l.T * l.H * l.hd)), lse(size_t(l.B * l.H * l.T));
    attention_forward_packed(out.data(), lse.data(), p.q, p.k, p.v, p.s, segs);
    std::vector<double> ro, rl;
    reference_forward(p, ro, rl);
    double fwd_err = 0;
    for (size_t i = 0; i < ro.size(); ++i) fwd_err = std::max(fwd_err, std::abs(ro[i] - out[i]));
    EXPECT_LT(fwd_err, 2e-5);

    const auto dout = random_vec(out.size(), 32);
    attention_backward_packed(p.dq, p.dk, p.dv, dout.data(), out.data(), lse.data(), p.q, p.k, p.v, p.s, segs);
    std::vector<double> gr;
    reference_backward(p, std::vector<double>(dout.begin(), dout.end()), gr);
    double bwd_err = 0;
    for (size_t i = 0; i < gr.size(); ++i) bwd_err = std::max(bwd_err, std::abs(gr[i] - p.dqkv[i]));
    EXPECT_LT(bwd_err, 1e-4);

    // The unpacked kernel on the same data differs: the mask matters.
    std::vector<float> plain(out.size()), plse(lse.size());
    attention_forward(plain.data(), plse.data(), p.q, p.k, p.v, p.s);
    double diff = 0;
    for (size_t i = 0; i < out.size(); ++i) diff = std::max(diff, double(std::abs(plain[i] - out[i])));
    EXPECT_GT(diff, 1e-2);
  }
  Problem p({1, 10, 2, 1, 8}, 33);
  std::vector<float> out(160), lse(20);
  std::vector<int32_t> bad{4, 4};  // covers 8 of 10 tokens
  EXPECT_THROW(attention_forward_packed(out.data(), lse.data(), p.q, p.k, p.v, p.s, bad), Error);
}

TEST(Attention, BackwardIsDeterministicAcrossRuns) {
  // A race on dk/dv between query heads of one group would show up as
  // run-to-run differences (and usually as a mismatch above).
  Problem p({4, 96, 8, 2, 64}, 18);
  std::vector<float> out, lse;
  run_forward(p, out, lse);
  const auto dout = random_vec(out.size(), 19);
  attention_backward(p.dq, p.dk, p.dv, dout.data(), out.data(), lse.data(), p.q, p.k, p.v, p.s);
  const auto first = p.dqkv;
  for (int rep = 0; rep < 3; ++rep) {
    std::fill(p.dqkv.begin(), p.dqkv.end(), 0.0f);
    attention_backward(p.dq, p.dk, p.dv, dout.data(), out.data(), lse.data(), p.q, p.k, p.v, p.s);
    ASSERT_EQ(first, p.dqkv);
  }
}

// Central differences of L = sum(out * R) through the double reference
// forward, perturbing every input element. The inputs are float, so the
// perturbation actually applied (x0 +- eps rounded to float) is measured and
// used as the divisor. With eps = 1e-3 the O(eps^2) truncation error is ~1e-6
// for unit-scale curvature and rounding is ~1e-13, so the numeric gradient is
// good to ~1e-6 and 1e-4 bounds the kernel's float error with room to spare.
TEST(Attention, BackwardMatchesFiniteDifferences) {
  for (const Layout& l : {Layout{1, 9, 4, 2, 8}, Layout{2, 7, 4, 1, 8, true, 2}}) {
    Problem p(l, 21);
    std::vector<float> out, lse;
    run_forward(p, out, lse);
    const auto R = random_vec(out.size(), 22);
    attention_backward(p.dq, p.dk, p.dv, R.data(), out.data(), lse.data(), p.q, p.k, p.v, p.s);

    auto loss = [&](Problem& pp) {
      std::vector<double> ro, rl;
      reference_forward(pp, ro, rl);
      double L = 0;
      for (size_t i = 0; i < ro.size(); ++i) L += ro[i] * R[i];
      return L;
    };
    const double eps = 1e-3;
    double max_err = 0;
    for (size_t i = 0; i < p.qkv.size(); ++i) {
      const float x0 = p.qkv[i];
      p.qkv[i] = float(x0 + eps);
      const double xp = double(p.qkv[i]) - x0;  // the perturbation actually applied
      const double lp = loss(p);
      p.qkv[i] = float(x0 - eps);
      const double xm = x0 - double(p.qkv[i]);
      const double lm = loss(p);
      p.qkv[i] = x0;
      const double num = (lp - lm) / (xp + xm);
      max_err = std::max(max_err, std::abs(num - double(p.dqkv[i])));
    }
    EXPECT_LT(max_err, 1e-4) << "T=" << l.T << " KVH=" << l.KVH;
  }
}

TEST(Attention, RejectsHeadsNotDivisibleByKvHeads) {
  AttentionShape s{1, 4, 3, 2, 8, 3 * 8, 2 * 8};
  std::vector<float> buf(1024);
  EXPECT_THROW(attention_forward(buf.data(), buf.data(), buf.data(), buf.data(), buf.data(), s), Error);
  EXPECT_THROW(attention_backward(buf.data(), buf.data(), buf.data(), buf.data(), buf.data(), buf.data(), buf.data(),
                                  buf.data(), buf.data(), s),
               Error);
}

}  // namespace
}  // namespace shog::ops
