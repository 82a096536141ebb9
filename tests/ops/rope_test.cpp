// RoPE: the table against the closed form, the rotation (HF rotate_half
// pairing i <-> i + hd/2) against a double reference inside a strided fused
// buffer, explicit positions, and the backward against finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/random.h"
#include "ops_test_util.h"
#include "ops/rope.h"

namespace shog::ops {
namespace {

using test::randn;

// The table follows HF in float32: inv_freq = 1 / powf(..) and the angle
// t * inv_freq are each rounded (pow, reciprocal, product: three roundings of
// at most 2^-23 relative), then cos/sin add about an ulp. Against the exact
// double angle that allows 1e-6 + angle * 4e-7 (~0.0016 rad at t = 4095);
// a wrong exponent (i/hd instead of 2i/hd) is off by O(1).
TEST(Rope, TableMatchesClosedForm) {
  const int64_t S = 4096, hd = 64;
  const float theta = 10000.0f;
  std::vector<float> cs(S * hd / 2), sn(S * hd / 2);
  rope_table(cs.data(), sn.data(), S, hd, theta);
  for (int64_t t = 0; t < S; t += 37) {
    for (int64_t i = 0; i < hd / 2; i++) {
      const double angle = double(t) * std::pow(double(theta), -2.0 * double(i) / double(hd));
      const double tol = 1e-6 + angle * 4e-7;
      ASSERT_NEAR(cs[t * hd / 2 + i], std::cos(angle), tol) << "t=" << t << " i=" << i;
      ASSERT_NEAR(sn[t * hd / 2 + i], std::sin(angle), tol) << "t=" << t << " i=" << i;
    }
  }
}

struct Case {
  int64_t B = 2, T = 5, H = 3, hd = 8, S = 16;
  // q inside a fused [B, T, (H + 2 KV) hd] row plus padding, as the model lays it out.
  int64_t stride = (3 + 2 * 1) * 8 + 4;
  int64_t offset = 8;  // rotate a part that does not start at the row's first element
};

// out = x rotated per pair by the table's (cos, sin), in double from the same
// table so the test isolates the rotation and the indexing.
std::vector<double> rotate_ref(const std::vector<double>& buf, const Case& k, const std::vector<float>& cs,
                               const std::vector<float>& sn, const std::vector<int32_t>* pos) {
  std::vector<double> out = buf;
  const int64_t half = k.hd / 2;
  for (int64_t b = 0; b < k.B; b++)
    for (int64_t t = 0; t < k.T; t++) {
      const int64_t p = pos ? (*pos)[b * k.T + t] : t;
      for (int64_t h = 0; h < k.H; h++)
        for (int64_t i = 0; i < half; i++) {
          const int64_t j = k.offset + (b * k.T + t) * k.stride + h * k.hd + i;
          const double c = cs[p * half + i], s = sn[p * half + i];
          out[j] = buf[j] * c - buf[j + half] * s;
          out[j + half] = buf[j + half] * c + buf[j] * s;
        }
    }
  return out;
}

void check_forward(const std::vector<int32_t>* pos) {
  Case k;
  Rng rng(20);
  std::vector<float> cs(k.S * k.hd / 2), sn(k.S * k.hd / 2);
  rope_table(cs.data(), sn.data(), k.S, k.hd, 10000.0f);
  auto buf = randn(k.offset + k.B * k.T * k.stride, rng);
  auto want = rotate_ref({buf.begin(), buf.end()}, k, cs, sn, pos);
  rope_forward(buf.data() + k.offset, cs.data(), sn.data(), pos ? pos->data() : nullptr, k.B, k.T, k.H, k.hd,
               k.stride);
  // Elements outside the rotated heads must be untouched bit for bit (the
  // reference copies them); rotated ones carry ~2 float roundings of O(1).
  for (size_t i = 0; i < buf.size(); i++) ASSERT_NEAR(buf[i], want[i], 1e-6) << "element " << i;
}

TEST(Rope, ForwardRotatesHalvesWithTokenStride) { check_forward(nullptr); }

TEST(Rope, ForwardUsesExplicitPositions) {
  Case k;
  std::vector<int32_t> pos(k.B * k.T);
  Rng rng(21);
  for (auto& p : pos) p = int32_t(rng.below(uint64_t(k.S)));
  pos[0] = int32_t(k.S - 1);
  check_forward(&pos);
}

// Explicit positions equal to 0..T-1 in every sequence must give exactly the
// implicit-position result: both paths read the same table rows.
TEST(Rope, ExplicitIdentityPositionsEqualImplicit) {
  Case k;
  std::vector<float> cs(k.S * k.hd / 2), sn(k.S * k.hd / 2);
  rope_table(cs.data(), sn.data(), k.S, k.hd, 500000.0f);
  Rng rng(22);
  auto a = randn(k.offset + k.B * k.T * k.stride, rng);
  auto b = a;
  std::vector<int32_t> pos(k.B * k.T);
  for (int64_t i = 0; i < k.B * k.T; i++) pos[i] = int32_t(i % k.T);
  rope_forward(a.data() + k.offset, cs.data(), sn.data(), nullptr, k.B, k.T, k.H, k.hd, k.stride);
  rope_forward(b.data() + k.offset, cs.data(), sn.data(), pos.data(), k.B, k.T, k.H, k.hd, k.stride);
  EXPECT_EQ(a, b);
}

// Loss sum(rope(x) * R): the backward turns R (in place) into dL/dx. Central
// differences of the double reference; the loss is linear in x so they are
// exact to double rounding, leaving the kernel's float rounding (~1e-7).
TEST(Rope, BackwardMatchesFiniteDifferences) {
  Case k;
  Rng rng(23);
  std::vector<float> cs(k.S * k.hd / 2), sn(k.S * k.hd / 2);
  rope_table(cs.data(), sn.data(), k.S, k.hd, 10000.0f);
  std::vector<int32_t> pos(k.B * k.T);
  for (auto& p : pos) p = int32_t(rng.below(uint64_t(k.S)));
  const size_t n = k.offset + k.B * k.T * k.stride;
  auto x = randn(n, rng), R = randn(n, rng);
  auto g = R;
  rope_backward(g.data() + k.offset, cs.data(), sn.data(), pos.data(), k.B, k.T, k.H, k.hd, k.stride);

  std::vector<double> xd(x.begin(), x.end());
  auto loss = [&] {
    auto y = rotate_ref(xd, k, cs, sn, &pos);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += y[i] * R[i];
    return s;
  };
  const double h = 1e-3;
  for (size_t i = 0; i < n; i++) {
    const double keep = xd[i];
    xd[i] = keep + h;
    const double lp = loss();
    xd[i] = keep - h;
    const double lm = loss();
    xd[i] = keep;
    ASSERT_NEAR(g[i], (lp - lm) / (2 * h), 2e-6) << "element " << i;
  }
}

// Backward after forward is the identity (the rotation is orthogonal).
TEST(Rope, BackwardInvertsForward) {
  Case k;
  Rng rng(24);
  std::vector<float> cs(k.S * k.hd / 2), sn(k.S * k.hd / 2);
  rope_table(cs.data(), sn.data(), k.S, k.hd, 10000.0f);
  auto x = randn(k.offset + k.B * k.T * k.stride, rng);
  auto y = x;
  rope_forward(y.data() + k.offset, cs.data(), sn.data(), nullptr, k.B, k.T, k.H, k.hd, k.stride);
  rope_backward(y.data() + k.offset, cs.data(), sn.data(), nullptr, k.B, k.T, k.H, k.hd, k.stride);
  for (size_t i = 0; i < x.size(); i++) ASSERT_NEAR(y[i], x[i], 2e-6) << "element " << i;
}

}  // namespace
}  // namespace shog::ops
