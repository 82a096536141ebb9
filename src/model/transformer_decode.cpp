// Inference forward over a paged KV cache: Transformer::forward_cached.
//
// The rows of every sequence in the batch (prompt chunks and single decode
// tokens alike) are stacked into one [N, C] matrix, so each projection is one
// GEMM over all of them; only attention and the cache writes look at which
// sequence a row belongs to:
//
//   x = embed(tokens)
//   per layer:  qkv = rmsnorm(x) Wqkv^T;  rope(q, k) at each row's position
//               a = paged_attention(q, cache), which stores k, v first
//               x += a Wo^T;  x += swiglu(rmsnorm(x) Wgu^T) Wdown^T
//   logits = rmsnorm(x[rows wanted]) lm_head^T
//
// An entry may bring a LoRA adapter of this base: after each base GEMM over
// all rows, each distinct adapter adds (alpha/r) B A x to its own rows only
// (two small GEMMs over those rows, gathered when they are not contiguous),
// so requests for different adapters, or none, share every base GEMM.
//
// Nothing is saved for a backward, so the buffers are a handful of [N, width]
// scratch rows reused by every layer.
//
// In bf16 a step of 1-2 rows goes through the few-row kernel (ops/gemv.h)
// on the row-major bf16 copy; every longer one (decode batches and prefill
// chunks alike) multiplies by a copy of the weights packed in panels
// (ops/panel_gemm.h), made from the f32 masters the first time and again
// after they change. In f32 a step of 1-2 rows goes through the few-row
// kernel, which reads the row-major weights in place, one of 3-64 rows through
// an f32 panel copy (ops::panel_gemm_f32), and longer chunks through oneDNN.
#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "model/transformer.h"
#include "ops/embedding.h"
#include "ops/gemm.h"
#include "ops/gemv.h"
#include "ops/paged_attention.h"
#include "ops/panel_gemm.h"
#include "ops/rmsnorm.h"
#include "ops/rope.h"
#include "ops/smear.h"
#include "ops/swiglu.h"

namespace shog {

struct Transformer::DecodeScratch {
  int64_t rows = 0;  // capacity in rows
  std::vector<float> x, norm, rstd, qkv, attn, gu, h;
  std::vector<bf16> in16;  // a GEMM input in bf16, [rows, widest input]
  std::vector<int32_t> tokens, pos, prev;  // prev: the smear's previous token per row
  std::vector<int64_t> slot, logit_src;
  std::vector<ops::PagedSequence> seqs;
  // LoRA: the rows of each distinct adapter in the batch, and scratch for its path.
  struct LoraRows {
    const LoraAdapter* adapter;
    std::vector<int64_t> rows;  // ascending
    bool contiguous() const { return rows.back() - rows.front() + 1 == int64_t(rows.size()); }
  };
  std::vector<LoraRows> lora;
  std::vector<float> lora_x, lora_u, lora_z;

  void ensure(const ModelConfig& c, int64_t n) {
    if (n <= rows) return;
    const size_t N = size_t(n), C = size_t(c.d_model), F = size_t(c.ffn_hidden);
    x.resize(N * C), norm.resize(N * C), rstd.resize(N), qkv.resize(N * size_t(c.qkv_dim()));
    attn.resize(N * size_t(c.n_head * c.head_dim())), gu.resize(N * 2 * F), h.resize(N * F);
    in16.resize(N * std::max({C, F, size_t(c.n_head * c.head_dim())}));
    rows = n;
  }
};

struct Transformer::PanelWeights {
  Tensor data;                                        // the compute dtype, every packed matrix one after another
  std::unordered_map<const float*, int64_t> offset;  // f32 master -> its packed copy's offset in data
  const bf16* at16(const float* W) const { return data.data<bf16>() + offset.at(W); }
  const float* at32(const float* W) const { return data.data<float>() + offset.at(W); }
};

const Transformer::PanelWeights& Transformer::panel_weights() {
  if (panels_ && !panels_stale_) return *panels_;
  const int64_t C = cfg_.d_model, F = cfg_.ffn_hidden, A = cfg_.n_head * cfg_.head_dim();
  struct Matrix {
    const float* W;
    int64_t N, K;
  };
  std::vector<Matrix> mats;
  for (const auto& lw : w_.layers) {
    mats.push_back({lw.wqkv, cfg_.qkv_dim(), C});
    mats.push_back({lw.wo, C, A});
    mats.push_back({lw.wgu, 2 * F, C});
    mats.push_back({lw.wdown, C, F});
  }
  mats.push_back({w_.lm_head, cfg_.vocab, C});
  const bool half = compute_ == DType::bf16;
  auto p = panels_ && panels_->data.dtype() == compute_ ? panels_ : std::make_shared<PanelWeights>();
  if (!p->data.defined()) {
    int64_t total = 0;
    for (const auto& m : mats)
      p->offset[m.W] = total, total += half ? ops::panel_packed_size(m.N, m.K) : ops::panel_packed_size_f32(m.N, m.K);
    p->data = Tensor::empty(compute_, {total});
  }
  for (const auto& m : mats)
    if (half)
      ops::pack_panels_bf16(m.W, m.N, m.K, p->data.data<bf16>() + p->offset.at(m.W));
    else
      ops::pack_panels_f32(m.W, m.N, m.K, p->data.data<float>() + p->offset.at(m.W));
  panels_ = std::move(p);
  panels_stale_ = false;
  return *panels_;
}

void Transformer::prepare_cached() { panel_weights(); }

int64_t Transformer::cached_logit_rows(std::span<const CachedTokens> batch) {
  int64_t r = 0;
  for (auto& e : batch) r += e.all_logits ? int64_t(e.tokens.size()) : 1;
  return r;
}

void Transformer::forward_cached(KvBlockPool& kv, std::span<const CachedTokens> batch, float* logits) {
  SHOG_CHECK(kv.n_layer() == cfg_.n_layer && kv.n_kv_head() == cfg_.n_kv_head && kv.head_dim() == cfg_.head_dim(),
             ErrorKind::invalid_argument, "forward_cached", "the KV cache was made for another model shape");
  if (batch.empty()) return;
  const int64_t C = cfg_.d_model, F = cfg_.ffn_hidden, H = cfg_.n_head, KVH = cfg_.n_kv_head, hd = cfg_.head_dim();
  const int64_t QKV = cfg_.qkv_dim(), V = cfg_.vocab, BS = kv.block_size();

  // Validate everything before touching the cache, so a bad request leaves it as it was.
  int64_t N = 0;
  std::vector<KvSeqId> ids;
  std::vector<int64_t> counts;
  std::unordered_set<KvSeqId> seen;
  for (auto& e : batch) {
    const int64_t n = int64_t(e.tokens.size());
    if (e.adapter) e.adapter->check_base(cfg_, fmt::format("forward_cached: sequence {}", e.seq));
    SHOG_CHECK(n >= 1, ErrorKind::internal, "forward_cached", "sequence {} brings no tokens", e.seq);
    SHOG_CHECK(seen.insert(e.seq).second, ErrorKind::internal, "forward_cached", "sequence {} appears twice", e.seq);
    const int64_t end = kv.length(e.seq) + n;
    SHOG_CHECK(end <= cfg_.max_seq, ErrorKind::invalid_argument, "forward_cached",
               "sequence {} would reach {} tokens, beyond the model's context of {} (max_seq)", e.seq, end,
               cfg_.max_seq);
    for (int64_t i = 0; i < n; ++i)
      SHOG_CHECK(e.tokens[size_t(i)] >= 0 && e.tokens[size_t(i)] < V, ErrorKind::bad_input, "forward_cached",
                 "token id {} is outside the vocabulary [0, {})", e.tokens[size_t(i)], V);
    ids.push_back(e.seq);
    counts.push_back(n);
    N += n;
  }
  kv.reserve(ids, counts);  // all or nothing; throws when the pool is short

  if (!decode_) decode_ = std::make_shared<DecodeScratch>();
  DecodeScratch& s = *decode_;
  s.ensure(cfg_, N);
  s.tokens.resize(size_t(N)), s.pos.resize(size_t(N)), s.slot.resize(size_t(N));
  s.seqs.clear();
  s.logit_src.clear();
  s.lora.clear();
  int64_t row = 0;
  for (auto& e : batch) {
    const int64_t n = int64_t(e.tokens.size()), p0 = kv.length(e.seq);
    if (e.adapter) {
      auto it = std::find_if(s.lora.begin(), s.lora.end(), [&](auto& g) { return g.adapter == e.adapter; });
      if (it == s.lora.end()) {
        s.lora.push_back(DecodeScratch::LoraRows{e.adapter, {}});
        it = s.lora.end() - 1;
      }
      for (int64_t i = 0; i < n; ++i) it->rows.push_back(row + i);
    }
    const auto& table = kv.block_table(e.seq);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t p = p0 + i;
      s.tokens[size_t(row + i)] = e.tokens[size_t(i)];
      s.pos[size_t(row + i)] = int32_t(p);
      s.slot[size_t(row + i)] = int64_t(table[size_t(p / BS)]) * BS + p % BS;
      if (e.all_logits || i == n - 1) s.logit_src.push_back(row + i);
    }
    s.seqs.push_back({row, n, p0, table.data()});
    row += n;
  }

  const bool half = compute_ == DType::bf16;
  const PanelWeights* panels = &panel_weights();
  // y (+)= x W^T over n rows (all N of the step, or the head's R); in bf16
  // the input is converted first. `then` names the product after this one
  // by its f32 master weights and shape; the f32 panel kernel fetches the
  // first panels of its packed copy while it finishes this one.
  using Next = ops::PanelsNext;
  auto linear = [&](int64_t n, const float* x, const float* W, float* y, int64_t in, int64_t out, bool accumulate,
                    Next then = {}) {
    if (half) {
      convert_f32_to_bf16(x, s.in16.data(), size_t(n * in));
      if (n <= ops::gemv_max_rows(DType::bf16))
        ops::gemv(DType::bf16, n, out, in, s.in16.data(), w16(W), y, accumulate);
      else
        ops::panel_gemm_bf16(n, out, in, s.in16.data(), panels->at16(W), y, accumulate);
    } else if (n <= ops::gemv_max_rows(DType::f32)) {
      ops::gemv(DType::f32, n, out, in, x, W, y, accumulate);
    } else if (n <= ops::kPanelMaxRowsF32) {
      ops::panel_gemm_f32(n, out, in, x, panels->at32(W), y, accumulate,
                          {then.Wp ? panels->at32(then.Wp) : nullptr, then.N, then.K});
    } else {
      linear_forward(x, nullptr, W, y, n, in, out, accumulate);
    }
  };
  // Each adapter's share of one projection: y[rows] += s (x[rows] A^T) B^T,
  // where y is the (possibly fused) output with row stride ld.
  auto small_gemm = [&](const float* x, const float* W, float* y, int64_t n, int64_t out, int64_t in) {
    if (n <= ops::kGemvMaxRows)
      ops::gemv(DType::f32, n, out, in, x, W, y, false);
    else
      ops::gemm(DType::f32, false, true, n, out, in, x, in, W, in, y, out, false);
  };
  auto lora = [&](int64_t l, LoraTarget t, const float* x, float* y, int64_t ld, int64_t col) {
    for (auto& g : s.lora) {
      auto w = g.adapter->weights(l, t);
      if (!w.a) continue;
      const int64_t n = int64_t(g.rows.size()), r = g.adapter->config().rank;
      const float sc = g.adapter->config().scale();
      const float* xg = x + g.rows.front() * w.in;
      if (!g.contiguous()) {
        s.lora_x.resize(size_t(n * w.in));
        for (int64_t i = 0; i < n; ++i)
          std::memcpy(s.lora_x.data() + i * w.in, x + g.rows[size_t(i)] * w.in, size_t(w.in) * sizeof(float));
        xg = s.lora_x.data();
      }
      s.lora_u.resize(size_t(n * r));
      s.lora_z.resize(size_t(n * w.out));
      small_gemm(xg, w.a, s.lora_u.data(), n, r, w.in);
      small_gemm(s.lora_u.data(), w.b, s.lora_z.data(), n, w.out, r);
      for (int64_t i = 0; i < n; ++i) {
        float* yr = y + g.rows[size_t(i)] * ld + col;
        const float* zr = s.lora_z.data() + i * w.out;
        for (int64_t j = 0; j < w.out; ++j) yr[j] += sc * zr[j];
      }
    }
  };
  const bool any_lora = !s.lora.empty();
  const ops::PagedAttentionShape ps{H, KVH, hd, BS, QKV, kv.dtype()};
  float *x = s.x.data(), *norm = s.norm.data(), *qkv = s.qkv.data(), *attn = s.attn.data();

  ops::embedding_forward(x, s.tokens.data(), w_.wte, N, C);
  if (w_.smear) {
    // Each row's previous token: the one before it in this step, or for a
    // step's first row the last one cached (kv.length() excludes this step's
    // tokens until the commit below).
    s.prev.resize(size_t(N));
    int64_t r0 = 0;
    for (const auto& e : batch) {
      const int64_t n = int64_t(e.tokens.size()), p0 = kv.length(e.seq);
      for (int64_t i = 0; i < n; ++i)
        s.prev[size_t(r0 + i)] = i > 0 ? e.tokens[size_t(i - 1)] : p0 > 0 ? kv.token(e.seq, p0 - 1) : -1;
      r0 += n;
    }
    ops::smear_forward(x, s.prev.data(), w_.wte, w_.smear, N, C);
  }
  for (int64_t l = 0; l < cfg_.n_layer; ++l) {
    const auto& lw = w_.layers[size_t(l)];
    ops::rmsnorm_forward(norm, s.rstd.data(), x, lw.attn_norm, N, C, cfg_.norm_eps);
    linear(N, norm, lw.wqkv, qkv, C, QKV, false);
    if (any_lora) {
      lora(l, LoraTarget::q, norm, qkv, QKV, 0);
      lora(l, LoraTarget::k, norm, qkv, QKV, H * hd);
      lora(l, LoraTarget::v, norm, qkv, QKV, (H + KVH) * hd);
    }
    // The rows are one "batch of 1, T = N" for RoPE, each at its own position.
    ops::rope_forward(qkv, rope_cos_.data(), rope_sin_.data(), s.pos.data(), 1, N, H, hd, QKV);
    ops::rope_forward(qkv + H * hd, rope_cos_.data(), rope_sin_.data(), s.pos.data(), 1, N, KVH, hd, QKV);
    // The attention stores this step's keys and values itself (a decode row's
    // just before it reads their block).
    const ops::PagedNewKv fresh{qkv + H * hd, qkv + (H + KVH) * hd, QKV, s.slot.data()};
    ops::paged_attention_forward(attn, qkv, kv.keys(l), kv.values(l), s.seqs.data(), int64_t(s.seqs.size()), ps,
                                 &fresh);
    linear(N, attn, lw.wo, x, H * hd, C, true, {lw.wgu, 2 * F, C});  // residual add fused into the GEMM
    if (any_lora) lora(l, LoraTarget::o, attn, x, C, 0);

    ops::rmsnorm_forward(norm, s.rstd.data(), x, lw.mlp_norm, N, C, cfg_.norm_eps);
    linear(N, norm, lw.wgu, s.gu.data(), C, 2 * F, false, {lw.wdown, C, F});
    if (any_lora) {
      lora(l, LoraTarget::gate, norm, s.gu.data(), 2 * F, 0);
      lora(l, LoraTarget::up, norm, s.gu.data(), 2 * F, F);
    }
    ops::swiglu_forward(s.h.data(), s.gu.data(), N, F);
    const bool last = l + 1 == cfg_.n_layer;
    linear(N, s.h.data(), lw.wdown, x, F, C, true,
           last ? Next{w_.lm_head, V, C} : Next{w_.layers[size_t(l + 1)].wqkv, QKV, C});
    if (any_lora) lora(l, LoraTarget::down, s.h.data(), x, C, 0);
  }
  for (const auto& e : batch) kv.commit(e.seq, e.tokens);

  // Only the rows whose logits are wanted go through the final norm and the
  // head (for a prefill chunk, one row instead of hundreds of V-wide rows).
  const int64_t R = int64_t(s.logit_src.size());
  for (int64_t r = 0; r < R; ++r)
    std::memcpy(norm + r * C, x + s.logit_src[size_t(r)] * C, size_t(C) * sizeof(float));
  ops::rmsnorm_forward(x, s.rstd.data(), norm, w_.final_norm, R, C, cfg_.norm_eps);
  linear(R, x, w_.lm_head, logits, C, V, false);
}

}  // namespace shog
