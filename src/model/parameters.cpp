#include "model/parameters.h"

#include "core/error.h"

namespace shog {

ParamTable::ParamTable(const ModelConfig& cfg) : cfg_(cfg) {
  const int64_t C = cfg.d_model, hd = cfg.head_dim(), F = cfg.ffn_hidden, V = cfg.vocab;
  auto add = [&](std::string name, Shape shape, bool matrix) {
    int64_t n = shape_numel(shape);
    entries_.push_back({std::move(name), std::move(shape), total_, n, matrix, matrix});
    total_ += n;
  };
  // The embedding is a lookup, not a GEMM input, unless it is tied to the head.
  add("model.embed_tokens.weight", {V, C}, true);
  entries_.back().is_matrix = cfg.tie_embeddings;
  if (cfg.smear) add("model.smear.weight", {C}, false);
  for (int64_t l = 0; l < cfg.n_layer; ++l) {
    std::string p = fmt::format("model.layers.{}.", l);
    add(p + "input_layernorm.weight", {C}, false);
    add(p + "self_attn.q_proj.weight", {cfg.n_head * hd, C}, true);
    add(p + "self_attn.k_proj.weight", {cfg.n_kv_head * hd, C}, true);
    add(p + "self_attn.v_proj.weight", {cfg.n_kv_head * hd, C}, true);
    add(p + "self_attn.o_proj.weight", {C, cfg.n_head * hd}, true);
    add(p + "post_attention_layernorm.weight", {C}, false);
    add(p + "mlp.gate_proj.weight", {F, C}, true);
    add(p + "mlp.up_proj.weight", {F, C}, true);
    add(p + "mlp.down_proj.weight", {C, F}, true);
  }
  add("model.norm.weight", {C}, false);
  if (!cfg.tie_embeddings) add("lm_head.weight", {V, C}, true);
  SHOG_ASSERT(int64_t(entries_.size()) ==
              first_layer_entry() + 1 + kEntriesPerLayer * cfg.n_layer + (cfg.tie_embeddings ? 0 : 1));
}

ParamTable::ParamTable(std::vector<ParamEntry> entries) : entries_(std::move(entries)), model_layout_(false) {
  for (auto& e : entries_) {
    e.offset = total_;
    e.numel = shape_numel(e.shape);
    total_ += e.numel;
  }
}

const ParamEntry* ParamTable::find(const std::string& name) const {
  for (auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

ParamViews ParamTable::views(float* block) const {
  SHOG_ASSERT(model_layout_);
  // Entries were appended in a fixed order; walk them in the same order.
  ParamViews v;
  size_t i = 0;
  auto next = [&] { return block + entries_.at(i++).offset; };
  v.wte = next();
  if (cfg_.smear) v.smear = next();
  for (int64_t l = 0; l < cfg_.n_layer; ++l) {
    LayerParams lp;
    lp.attn_norm = next();
    lp.wqkv = next();
    i += 2;  // k_proj, v_proj follow q_proj contiguously
    lp.wo = next();
    lp.mlp_norm = next();
    lp.wgu = next();
    i += 1;  // up_proj follows gate_proj
    lp.wdown = next();
    v.layers.push_back(lp);
  }
  v.final_norm = next();
  v.lm_head = cfg_.tie_embeddings ? v.wte : next();
  SHOG_ASSERT(i == entries_.size());
  return v;
}

}  // namespace shog
