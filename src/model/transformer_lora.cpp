// The LoRA path of Transformer::forward/backward (model/lora.h). For one
// target with input x [N, in] and base output y [N, out] (a column block of
// the fused q|k|v or gate|up output where it is one):
//
//   forward   xd = dropout(x);  u = s xd A^T [N, r] (saved);  y += u B^T
//   backward  dB += dy^T u;  g = s dy B;  dA += g^T xd;  dx += dropout'(g A)
//
// with s = alpha / r. Everything runs in f32: the factors are r wide, so
// these GEMMs cost ~r/in of the base projection's. The dropout mask is a
// hash of (seed, forward call, layer, target, element), regenerated in the
// backward instead of stored.
#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/random.h"
#include "model/transformer.h"
#include "ops/dropout.h"
#include "ops/gemm.h"

namespace shog {

struct Transformer::LoraActs {
  int64_t N = 0;
  bool dropout = false;  // the forward applied dropout (training mode, p > 0)
  uint64_t seed = 0;     // that forward's mask seed
  std::vector<float> u;  // per (layer, target) slot: [N, r] = s * xd A^T
  std::vector<float> xd, dxd;  // [N, widest input]: dropped-out input and its gradient
  std::vector<float> g;        // [N, r]
  float* u_of(int64_t layer, LoraTarget t, int64_t r) {
    return u.data() + (layer * kLoraTargets + int64_t(t)) * N * r;
  }
};

namespace {

// Column offset of a target inside its projection's (possibly fused) output.
int64_t column_offset(const ModelConfig& c, LoraTarget t) {
  const int64_t hd = c.head_dim();
  switch (t) {
    case LoraTarget::k: return c.n_head * hd;
    case LoraTarget::v: return (c.n_head + c.n_kv_head) * hd;
    case LoraTarget::up: return c.ffn_hidden;
    default: return 0;
  }
}

}  // namespace

void Transformer::attach_lora(LoraAdapter* adapter) {
  if (adapter) adapter->check_base(cfg_, "attach_lora");
  lora_ = adapter;
}

void Transformer::lora_begin_forward() {
  const int64_t N = B_ * T_, r = lora_->config().rank;
  const int64_t widest = std::max({cfg_.d_model, cfg_.ffn_hidden, cfg_.n_head * cfg_.head_dim()});
  if (!lora_acts_) lora_acts_ = std::make_shared<LoraActs>();
  LoraActs& la = *lora_acts_;
  la.N = N;
  auto grow = [](std::vector<float>& v, int64_t n) {
    if (int64_t(v.size()) < n) v.resize(size_t(n));
  };
  grow(la.u, cfg_.n_layer * kLoraTargets * N * r);
  grow(la.g, N * r);
  la.dropout = training_ && lora_->config().dropout > 0;
  if (la.dropout) {
    grow(la.xd, N * widest);
    grow(la.dxd, N * widest);
    la.seed = mix64(dropout_seed_ ^ mix64(++dropout_calls_));
  }
}

void Transformer::lora_forward(int64_t l, LoraTarget t, const float* x, float* y, int64_t ld) {
  const LoraAdapter& ad = *lora_;
  auto w = ad.weights(l, t);
  if (!w.a) return;
  LoraActs& la = *lora_acts_;
  const int64_t N = la.N, r = ad.config().rank, in = w.in, out = w.out;
  const float s = ad.config().scale();
  const float* xin = x;
  if (la.dropout) {
    ops::dropout(x, la.xd.data(), N * in, ad.config().dropout,
                 mix64(la.seed ^ uint64_t(l * kLoraTargets + int64_t(t) + 1)), false);
    xin = la.xd.data();
  }
  float* u = la.u_of(l, t, r);
  ops::gemm(DType::f32, false, true, N, r, in, xin, in, w.a, in, u, r, false);
  for (int64_t i = 0; i < N * r; ++i) u[i] *= s;
  ops::gemm(DType::f32, false, true, N, out, r, u, r, w.b, r, y + column_offset(cfg_, t), ld, true);
}

void Transformer::lora_backward(int64_t l, LoraTarget t, const float* dy, int64_t ld, const float* x, float* dx) {
  LoraAdapter& ad = *lora_;
  auto w = ad.weights(l, t);
  if (!w.a) return;
  auto gr = ad.grads_of(l, t);
  LoraActs& la = *lora_acts_;
  const int64_t N = la.N, r = ad.config().rank, in = w.in, out = w.out;
  const float s = ad.config().scale();
  dy += column_offset(cfg_, t);
  const float* u = la.u_of(l, t, r);
  float* g = la.g.data();
  ops::gemm(DType::f32, true, false, out, r, N, dy, ld, u, r, gr.b, r, true);  // dB += dy^T u
  ops::gemm(DType::f32, false, false, N, r, out, dy, ld, w.b, r, g, r, false);  // g = dy B
  for (int64_t i = 0; i < N * r; ++i) g[i] *= s;
  const uint64_t seed = mix64(la.seed ^ uint64_t(l * kLoraTargets + int64_t(t) + 1));
  const float* xin = x;
  if (la.dropout) {
    ops::dropout(x, la.xd.data(), N * in, ad.config().dropout, seed, false);
    xin = la.xd.data();
  }
  ops::gemm(DType::f32, true, false, r, in, N, g, r, xin, in, gr.a, in, true);  // dA += g^T xd
  if (la.dropout) {
    ops::gemm(DType::f32, false, false, N, in, r, g, r, w.a, in, la.dxd.data(), in, false);
    ops::dropout(la.dxd.data(), dx, N * in, ad.config().dropout, seed, true);
  } else {
    ops::gemm(DType::f32, false, false, N, in, r, g, r, w.a, in, dx, in, true);  // dx += g A
  }
}

}  // namespace shog
