#include "model/transformer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/random.h"
#include "ops/attention.h"
#include "ops/dropout.h"
#include "ops/embedding.h"
#include "ops/smear.h"
#include "ops/gemm.h"
#include "ops/rmsnorm.h"
#include "ops/rope.h"
#include "ops/swiglu.h"

namespace shog {

// Saved activations of one layer (forward) for its backward.
struct LayerActs {
  float* attn_norm;  // [N, C]   rmsnorm(x)
  float* attn_rstd;  // [N]
  float* qkv;        // [N, qkv_dim], q and k after RoPE
  float* attn_out;   // [N, C]
  float* lse;        // [B, H, T]
  float* resid_mid;  // [N, C]   x + attention
  float* mlp_norm;   // [N, C]
  float* mlp_rstd;   // [N]
  float* gu;         // [N, 2F]
  float* h;          // [N, F]   swiglu(gu)
  // bf16 copies of the GEMM inputs (compute dtype bf16 only), kept for the
  // weight-gradient GEMMs of the backward.
  bf16 *attn_norm16 = nullptr, *attn_out16 = nullptr, *mlp_norm16 = nullptr, *h16 = nullptr;
};

struct Transformer::Activations {
  Arena arena;
  std::vector<float*> resid;  // [L+1] residual stream, each [N, C]
  std::vector<LayerActs> layers;
  float* hidden;        // [N, C]
  float* final_rstd;    // [N]
  // Backward scratch, reused by every layer.
  float *dhidden, *dres, *dnorm, *dqkv, *dattn, *dgu, *dh;
  float* branch;  // [N, C]: a block's output before residual dropout, and its gradient
  bf16* dy16 = nullptr;  // [N, max width]: a GEMM's output gradient in bf16
};

Transformer::Transformer(const ModelConfig& cfg, DType compute) : cfg_(cfg), compute_(compute), table_(cfg) {
  cfg_.validate("model config");
  SHOG_CHECK(compute == DType::f32 || compute == DType::bf16, ErrorKind::invalid_argument, "compute dtype",
             "must be f32 or bf16, got {}", dtype_name(compute));
  params_ = Tensor::empty(DType::f32, {table_.total()});
  grads_ = Tensor::empty(DType::f32, {table_.total()});
  w_ = table_.views(params());
  g_ = table_.views(grads());
  const int64_t hd = cfg_.head_dim();
  rope_cos_.resize(size_t(cfg_.max_seq * hd / 2));
  rope_sin_.resize(rope_cos_.size());
  ops::rope_table(rope_cos_.data(), rope_sin_.data(), cfg_.max_seq, hd, cfg_.rope_theta);
  head_ws_ = std::make_unique<ops::OutputHeadWorkspace>(cfg_.d_model, cfg_.vocab);
  set_compute_dtype(compute);
}

Transformer::~Transformer() = default;

void Transformer::set_compute_dtype(DType dt) {
  SHOG_CHECK(dt == DType::f32 || dt == DType::bf16, ErrorKind::invalid_argument, "compute dtype",
             "must be f32 or bf16, got {}", dtype_name(dt));
  compute_ = dt;
  if (dt == DType::bf16 && !params16_.defined()) params16_ = Tensor::empty(DType::bf16, {table_.total()});
  if (dt == DType::f32) params16_ = Tensor(), panels_.reset();
  acts_.reset();  // the arena's bf16 shadows depend on the dtype
  B_ = T_ = 0;
  sync_compute_weights();
}

void Transformer::init_weights(uint64_t seed, float std, float embed_std) {
  Rng rng(seed);
  const float resid_std = std / std::sqrt(2.0f * float(cfg_.n_layer));
  for (auto& e : table_.entries()) {
    float* p = params() + e.offset;
    if (p == w_.smear) {  // zero: a new model starts as the plain one (ops/smear.h)
      std::fill(p, p + e.numel, 0.0f);
      continue;
    }
    if (e.shape.size() == 1) {
      std::fill(p, p + e.numel, 1.0f);
      continue;
    }
    bool resid_proj = e.name.find("o_proj") != std::string::npos || e.name.find("down_proj") != std::string::npos;
    float s = resid_proj ? resid_std : std;
    if (p == w_.wte && embed_std > 0) s = embed_std;
    for (int64_t i = 0; i < e.numel; ++i) p[i] = float(rng.normal()) * s;
  }
  sync_compute_weights();
}

void Transformer::sync_compute_weights() {
  panels_stale_ = true;
  if (compute_ != DType::bf16) return;
  for (auto& e : table_.entries())
    if (e.is_matrix) convert_f32_to_bf16(params() + e.offset, params16_.data<bf16>() + e.offset, size_t(e.numel));
}

void Transformer::set_residual_dropout(float p, uint64_t seed) {
  SHOG_CHECK(std::isfinite(p) && p >= 0 && p < 1, ErrorKind::invalid_argument, "residual dropout",
             "must be in [0, 1), got {}", p);
  resid_p_ = p, resid_seed_ = seed, resid_calls_ = 0;
}

uint64_t Transformer::resid_site_seed(int64_t layer, int64_t block) const {
  return mix64(fwd_resid_seed_ ^ uint64_t(2 * layer + block + 1));
}

void Transformer::zero_grad() { std::memset(grads(), 0, size_t(table_.total()) * sizeof(float)); }

void Transformer::set_frozen(const std::string& name, bool frozen) {
  for (auto& e : table_.entries())
    if (e.name == name) {
      e.frozen = frozen;
      return;
    }
  throw Error(ErrorKind::invalid_argument, "set_frozen", fmt::format("no parameter named '{}'", name));
}

bool Transformer::frozen_at(const float* grad_ptr, int64_t n) const {
  // True when every entry inside [grad_ptr, grad_ptr + n) is frozen: a fused
  // GEMM (q|k|v, gate|up) skips its weight gradient only if all parts are.
  if (lora_) return true;  // training an adapter: the base gets no gradient
  const int64_t begin = grad_ptr - grads(), end = begin + n;
  bool any = false;
  for (auto& e : table_.entries())
    if (e.offset >= begin && e.offset < end) {
      if (!e.frozen) return false;
      any = true;
    }
  SHOG_ASSERT(any);
  return true;
}

const bf16* Transformer::w16(const float* w) const {
  return params16_.data<bf16>() + (w - params());
}

const void* Transformer::head_weight() const {
  return compute_ == DType::bf16 ? static_cast<const void*>(w16(w_.lm_head)) : static_cast<const void*>(w_.lm_head);
}

void Transformer::ensure_activations(int64_t B, int64_t T) {
  if (acts_ && B == B_ && T == T_) return;
  SHOG_CHECK(B >= 1 && T >= 1, ErrorKind::invalid_argument, "forward", "batch {} and sequence {} must be >= 1", B, T);
  SHOG_CHECK(T <= cfg_.max_seq, ErrorKind::invalid_argument, "forward",
             "sequence length {} exceeds the model's max_seq {}", T, cfg_.max_seq);
  const int64_t N = B * T, C = cfg_.d_model, F = cfg_.ffn_hidden, L = cfg_.n_layer;
  const bool half = compute_ == DType::bf16;
  auto a = std::make_unique<Activations>();
  // Plan every buffer, allocate once, then hand out pointers.
  std::vector<std::pair<void**, size_t>> plan;
  auto f32 = [&](float*& p, int64_t n) { plan.push_back({reinterpret_cast<void**>(&p), a->arena.reserve(DType::f32, {n})}); };
  auto b16 = [&](bf16*& p, int64_t n) { plan.push_back({reinterpret_cast<void**>(&p), a->arena.reserve(DType::bf16, {n})}); };
  a->resid.resize(size_t(L + 1));
  a->layers.resize(size_t(L));
  for (auto& r : a->resid) f32(r, N * C);
  for (auto& la : a->layers) {
    f32(la.attn_norm, N * C), f32(la.attn_rstd, N), f32(la.qkv, N * cfg_.qkv_dim()), f32(la.attn_out, N * C);
    f32(la.lse, B * cfg_.n_head * T), f32(la.resid_mid, N * C), f32(la.mlp_norm, N * C), f32(la.mlp_rstd, N);
    f32(la.gu, N * 2 * F), f32(la.h, N * F);
    if (half) b16(la.attn_norm16, N * C), b16(la.attn_out16, N * C), b16(la.mlp_norm16, N * C), b16(la.h16, N * F);
  }
  f32(a->hidden, N * C), f32(a->final_rstd, N);
  f32(a->dhidden, N * C), f32(a->dres, N * C), f32(a->dnorm, N * C), f32(a->dqkv, N * cfg_.qkv_dim());
  f32(a->dattn, N * C), f32(a->dgu, N * 2 * F), f32(a->dh, N * F), f32(a->branch, N * C);
  if (half) b16(a->dy16, N * std::max({cfg_.qkv_dim(), 2 * F, C}));
  a->arena.commit();
  for (auto& [ptr, off] : plan) *ptr = a->arena.at(off, DType::f32, {0}).raw();
  acts_ = std::move(a);
  B_ = B, T_ = T;
}

void Transformer::linear_forward(const float* x, const bf16* x16, const float* W, float* y, int64_t N, int64_t in,
                                 int64_t out, bool accumulate) {
  if (compute_ == DType::bf16)
    ops::gemm(DType::bf16, false, true, N, out, in, x16, in, w16(W), in, y, out, accumulate);
  else
    ops::gemm(DType::f32, false, true, N, out, in, x, in, W, in, y, out, accumulate);
}

void Transformer::linear_backward(const float* dy, const float* x, const bf16* x16, const float* W, float* dx,
                                  float* dW, int64_t N, int64_t in, int64_t out) {
  if (dW && frozen_at(dW, in * out)) dW = nullptr;
  if (compute_ == DType::bf16) {
    bf16* dy16 = acts_->dy16;
    convert_f32_to_bf16(dy, dy16, size_t(N * out));
    if (dx) ops::gemm(DType::bf16, false, false, N, in, out, dy16, out, w16(W), in, dx, in, true);
    if (dW) ops::gemm(DType::bf16, true, false, out, in, N, dy16, out, x16, in, dW, in, true);
  } else {
    if (dx) ops::gemm(DType::f32, false, false, N, in, out, dy, out, W, in, dx, in, true);
    if (dW) ops::gemm(DType::f32, true, false, out, in, N, dy, out, x, in, dW, in, true);
  }
}

static ops::AttentionShape attention_shape(const ModelConfig& c, int64_t B, int64_t T) {
  return {B, T, c.n_head, c.n_kv_head, c.head_dim(), c.qkv_dim(), c.qkv_dim()};
}

void Transformer::forward(const int32_t* tokens, int64_t B, int64_t T, std::span<const int32_t> seg_lens) {
  ensure_activations(B, T);
  // Packed rows: positions restart at each sample, attention stays inside it.
  seg_lens_.assign(seg_lens.begin(), seg_lens.end());
  const int32_t* pos = nullptr;
  if (!seg_lens_.empty()) {
    positions_.clear();
    for (int32_t len : seg_lens_)
      for (int32_t i = 0; i < len; ++i) positions_.push_back(i);
    SHOG_CHECK(int64_t(positions_.size()) == B * T, ErrorKind::invalid_argument, "forward",
               "segment lengths sum to {}, not B*T = {}", positions_.size(), B * T);
    pos = positions_.data();
  }
  const int64_t N = B * T, C = cfg_.d_model, F = cfg_.ffn_hidden, hd = cfg_.head_dim(), H = cfg_.n_head;
  for (int64_t i = 0; i < N; ++i)
    SHOG_CHECK(tokens[i] >= 0 && tokens[i] < cfg_.vocab, ErrorKind::bad_input, "forward",
               "token id {} at position {} is outside the vocabulary [0, {})", tokens[i], i, cfg_.vocab);
  // The backward needs the ids; keep a copy so the caller's buffer may change.
  tokens_copy_.assign(tokens, tokens + N);
  tokens_ = tokens_copy_.data();
  auto& a = *acts_;
  forward_lora_ = lora_;
  if (lora_) lora_begin_forward();
  const bool half = compute_ == DType::bf16;
  auto to16 = [&](const float* x, bf16* x16, int64_t n) {
    if (half) convert_f32_to_bf16(x, x16, size_t(n));
  };

  ops::embedding_forward(a.resid[0], tokens_, w_.wte, N, C);
  if (w_.smear) {
    // The token before each row within its sample; none at a sample's start.
    prev_tokens_.resize(size_t(N));
    for (int64_t n = 0; n < N; ++n) {
      const bool first = pos ? pos[n] == 0 : n % T == 0;
      prev_tokens_[size_t(n)] = first ? -1 : tokens_[n - 1];
    }
    ops::smear_forward(a.resid[0], prev_tokens_.data(), w_.wte, w_.smear, N, C);
  }
  if (training_ && noise_alpha_ > 0)
    ops::embedding_noise(a.resid[0], N * C, noise_alpha_ / std::sqrt(float(T * C)),
                         mix64(noise_seed_ ^ mix64(++noise_calls_)));
  fwd_resid_seed_ = training_ && resid_p_ > 0 ? mix64(resid_seed_ ^ mix64(++resid_calls_)) | 1 : 0;
  for (int64_t l = 0; l < cfg_.n_layer; ++l) {
    auto& la = a.layers[size_t(l)];
    auto& lw = w_.layers[size_t(l)];
    const float* x = a.resid[size_t(l)];
    // resid += dropout(h W^T (+ LoRA)); without dropout the add is fused
    // into the GEMM.
    auto add_block = [&](const float* h, const bf16* h16, const float* W, int64_t in, LoraTarget t, float* resid,
                         int64_t block) {
      float* y = fwd_resid_seed_ ? a.branch : resid;
      linear_forward(h, h16, W, y, N, in, C, !fwd_resid_seed_);
      if (lora_) lora_forward(l, t, h, y, C);
      if (fwd_resid_seed_) ops::dropout(a.branch, resid, N * C, resid_p_, resid_site_seed(l, block), true);
    };
    ops::rmsnorm_forward(la.attn_norm, la.attn_rstd, x, lw.attn_norm, N, C, cfg_.norm_eps);
    to16(la.attn_norm, la.attn_norm16, N * C);
    linear_forward(la.attn_norm, la.attn_norm16, lw.wqkv, la.qkv, N, C, cfg_.qkv_dim(), false);
    if (lora_)
      for (LoraTarget t : {LoraTarget::q, LoraTarget::k, LoraTarget::v})
        lora_forward(l, t, la.attn_norm, la.qkv, cfg_.qkv_dim());
    ops::rope_forward(la.qkv, rope_cos_.data(), rope_sin_.data(), pos, B, T, H, hd, cfg_.qkv_dim());
    ops::rope_forward(la.qkv + H * hd, rope_cos_.data(), rope_sin_.data(), pos, B, T, cfg_.n_kv_head, hd,
                      cfg_.qkv_dim());
    auto s = attention_shape(cfg_, B, T);
    const float *q = la.qkv, *k = la.qkv + H * hd, *v = la.qkv + (H + cfg_.n_kv_head) * hd;
    if (seg_lens_.empty())
      ops::attention_forward(la.attn_out, la.lse, q, k, v, s);
    else
      ops::attention_forward_packed(la.attn_out, la.lse, q, k, v, s, seg_lens_);
    to16(la.attn_out, la.attn_out16, N * C);
    std::memcpy(la.resid_mid, x, size_t(N * C) * sizeof(float));
    add_block(la.attn_out, la.attn_out16, lw.wo, H * hd, LoraTarget::o, la.resid_mid, 0);

    ops::rmsnorm_forward(la.mlp_norm, la.mlp_rstd, la.resid_mid, lw.mlp_norm, N, C, cfg_.norm_eps);
    to16(la.mlp_norm, la.mlp_norm16, N * C);
    linear_forward(la.mlp_norm, la.mlp_norm16, lw.wgu, la.gu, N, C, 2 * F, false);
    if (lora_)
      for (LoraTarget t : {LoraTarget::gate, LoraTarget::up}) lora_forward(l, t, la.mlp_norm, la.gu, 2 * F);
    ops::swiglu_forward(la.h, la.gu, N, F);
    to16(la.h, la.h16, N * F);
    float* out = a.resid[size_t(l + 1)];
    std::memcpy(out, la.resid_mid, size_t(N * C) * sizeof(float));
    add_block(la.h, la.h16, lw.wdown, F, LoraTarget::down, out, 1);
  }
  ops::rmsnorm_forward(a.hidden, a.final_rstd, a.resid[size_t(cfg_.n_layer)], w_.final_norm, N, C, cfg_.norm_eps);
  std::memset(a.dhidden, 0, size_t(N * C) * sizeof(float));
}

const float* Transformer::hidden() const {
  SHOG_CHECK(acts_, ErrorKind::internal, "hidden", "forward() has not run");
  return acts_->hidden;
}

float* Transformer::hidden_grad() {
  SHOG_CHECK(acts_, ErrorKind::internal, "hidden_grad", "forward() has not run");
  return acts_->dhidden;
}

void Transformer::token_logprobs(const int32_t* targets, float* logp) {
  ops::output_head_logprobs(logp, hidden(), head_weight(), compute_, targets, B_ * T_, cfg_.d_model, cfg_.vocab,
                            *head_ws_);
}

void Transformer::logits(float* out) {
  const int64_t N = B_ * T_, C = cfg_.d_model, V = cfg_.vocab;
  if (compute_ == DType::bf16) {
    std::vector<bf16> h16(size_t(N * C));
    convert_f32_to_bf16(hidden(), h16.data(), h16.size());
    ops::gemm(DType::bf16, false, true, N, V, C, h16.data(), C, head_weight(), C, out, V, false);
  } else {
    ops::gemm(DType::f32, false, true, N, V, C, hidden(), C, w_.lm_head, C, out, V, false);
  }
}

double Transformer::cross_entropy_backward(const int32_t* targets, const float* weights, float* logp_out) {
  float* dW = frozen_at(g_.lm_head, cfg_.vocab * cfg_.d_model) ? nullptr : g_.lm_head;
  double loss = ops::output_head_cross_entropy(logp_out, hidden_grad(), dW, hidden(), head_weight(), compute_,
                                               targets, weights, B_ * T_, cfg_.d_model, cfg_.vocab, *head_ws_);
  backward();
  return loss;
}

void Transformer::logprob_backward(const int32_t* targets, const float* g) {
  float* dW = frozen_at(g_.lm_head, cfg_.vocab * cfg_.d_model) ? nullptr : g_.lm_head;
  ops::output_head_backward(hidden_grad(), dW, hidden(), head_weight(), compute_, targets, g, B_ * T_,
                            cfg_.d_model, cfg_.vocab, *head_ws_);
  backward();
}

void Transformer::backward() {
  SHOG_CHECK(acts_, ErrorKind::internal, "backward", "forward() has not run");
  SHOG_CHECK(forward_lora_ == lora_, ErrorKind::internal, "backward",
             "the LoRA adapter was attached or detached between forward() and backward()");
  auto& a = *acts_;
  const int64_t B = B_, T = T_, N = B * T, C = cfg_.d_model, F = cfg_.ffn_hidden, hd = cfg_.head_dim();
  const int64_t H = cfg_.n_head, KVH = cfg_.n_kv_head, QKV = cfg_.qkv_dim();
  auto zero = [](float* p, int64_t n) { std::memset(p, 0, size_t(n) * sizeof(float)); };
  // Norm weights: a frozen norm still passes gradient to its input; its own
  // gradient goes to a scratch row we then discard.
  std::vector<float> discard;
  auto norm_grad = [&](float* g) {
    if (!frozen_at(g, C)) return g;
    discard.assign(size_t(C), 0.0f);
    return discard.data();
  };

  // Layer l's parameters are 9 entries from first_layer_entry() + 9 l (after
  // the embedding and smear gain); the final norm and the untied head follow
  // the last layer.
  const auto& entries = table_.entries();
  auto layer_begin = [&](int64_t l) {
    return entries.at(size_t(table_.first_layer_entry() + kEntriesPerLayer * l)).offset;
  };
  zero(a.dres, N * C);
  ops::rmsnorm_backward(a.dres, norm_grad(g_.final_norm), a.dhidden, a.resid[size_t(cfg_.n_layer)], w_.final_norm,
                        a.final_rstd, N, C);
  grads_final(layer_begin(cfg_.n_layer), table_.total());  // final norm (+ head, done by the caller before)
  for (int64_t l = cfg_.n_layer - 1; l >= 0; --l) {
    auto& la = a.layers[size_t(l)];
    auto& lw = w_.layers[size_t(l)];
    auto& lg = g_.layers[size_t(l)];
    // A block's output gradient: dres, through the forward's dropout mask.
    auto block_grad = [&](int64_t block) -> const float* {
      if (!fwd_resid_seed_) return a.dres;
      ops::dropout(a.dres, a.branch, N * C, resid_p_, resid_site_seed(l, block), false);
      return a.branch;
    };
    // MLP block: out = resid_mid + dropout(h Wdown^T); dres flows to both.
    const float* dmlp = block_grad(1);
    zero(a.dh, N * F);
    linear_backward(dmlp, la.h, la.h16, lw.wdown, a.dh, lg.wdown, N, F, C);
    if (lora_) lora_backward(l, LoraTarget::down, dmlp, C, la.h, a.dh);
    zero(a.dgu, N * 2 * F);
    ops::swiglu_backward(a.dgu, a.dh, la.gu, N, F);
    zero(a.dnorm, N * C);
    linear_backward(a.dgu, la.mlp_norm, la.mlp_norm16, lw.wgu, a.dnorm, lg.wgu, N, C, 2 * F);
    if (lora_)
      for (LoraTarget t : {LoraTarget::gate, LoraTarget::up})
        lora_backward(l, t, a.dgu, 2 * F, la.mlp_norm, a.dnorm);
    ops::rmsnorm_backward(a.dres, norm_grad(lg.mlp_norm), a.dnorm, la.resid_mid, lw.mlp_norm, la.mlp_rstd, N, C);
    // Attention block: resid_mid = x + dropout(attn_out Wo^T).
    const float* dattn_block = block_grad(0);
    zero(a.dattn, N * C);
    linear_backward(dattn_block, la.attn_out, la.attn_out16, lw.wo, a.dattn, lg.wo, N, H * hd, C);
    if (lora_) lora_backward(l, LoraTarget::o, dattn_block, C, la.attn_out, a.dattn);
    zero(a.dqkv, N * QKV);
    auto s = attention_shape(cfg_, B, T);
    float *dq = a.dqkv, *dk = a.dqkv + H * hd, *dv = a.dqkv + (H + KVH) * hd;
    const float *q = la.qkv, *k = la.qkv + H * hd, *v = la.qkv + (H + KVH) * hd;
    if (seg_lens_.empty())
      ops::attention_backward(dq, dk, dv, a.dattn, la.attn_out, la.lse, q, k, v, s);
    else
      ops::attention_backward_packed(dq, dk, dv, a.dattn, la.attn_out, la.lse, q, k, v, s, seg_lens_);
    const int32_t* pos = seg_lens_.empty() ? nullptr : positions_.data();
    ops::rope_backward(a.dqkv, rope_cos_.data(), rope_sin_.data(), pos, B, T, H, hd, QKV);
    ops::rope_backward(a.dqkv + H * hd, rope_cos_.data(), rope_sin_.data(), pos, B, T, KVH, hd, QKV);
    zero(a.dnorm, N * C);
    linear_backward(a.dqkv, la.attn_norm, la.attn_norm16, lw.wqkv, a.dnorm, lg.wqkv, N, C, QKV);
    if (lora_)
      for (LoraTarget t : {LoraTarget::q, LoraTarget::k, LoraTarget::v})
        lora_backward(l, t, a.dqkv, QKV, la.attn_norm, a.dnorm);
    ops::rmsnorm_backward(a.dres, norm_grad(lg.attn_norm), a.dnorm, a.resid[size_t(l)], lw.attn_norm, la.attn_rstd,
                          N, C);
    grads_final(layer_begin(l), layer_begin(l + 1));
  }
  float* dwte = frozen_at(g_.wte, cfg_.vocab * C) ? nullptr : g_.wte;
  if (w_.smear)
    ops::smear_backward(dwte, frozen_at(g_.smear, C) ? nullptr : g_.smear, a.dres, prev_tokens_.data(), w_.wte,
                        w_.smear, N, C);
  if (dwte) ops::embedding_backward(dwte, a.dres, tokens_, N, C);
  grads_final(0, layer_begin(0));
}

void Transformer::grads_final(int64_t begin, int64_t end) {
  // "Frozen" always means "no gradient".
  for (auto& e : table_.entries())
    if (e.frozen && e.offset >= begin && e.offset < end)
      std::memset(grads() + e.offset, 0, size_t(e.numel) * sizeof(float));
  if (grad_ready_ && end > begin) grad_ready_(begin, end - begin);
}

}  // namespace shog
