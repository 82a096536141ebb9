// The shape of a Llama-style decoder. Stored in checkpoints as a Hugging Face
// config.json (LlamaConfig keys), so a checkpoint directory is also an HF model.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace shog {

struct ModelConfig {
  int64_t n_layer = 4;
  int64_t d_model = 256;
  int64_t n_head = 4;
  int64_t n_kv_head = 4;
  int64_t ffn_hidden = 704;
  int64_t vocab = 4096;
  int64_t max_seq = 256;
  float rope_theta = 10000.0f;
  float norm_eps = 1e-5f;
  bool tie_embeddings = false;
  // Adds a learnt per-channel multiple of the previous token's embedding to
  // each position's (ops/smear.h says why). Not a LlamaConfig field: stored
  // as "shog_smear" in config.json, and GGUF export refuses such a model.
  bool smear = false;

  int64_t head_dim() const { return d_model / n_head; }
  int64_t qkv_dim() const { return (n_head + 2 * n_kv_head) * head_dim(); }

  // Throws shog::Error(invalid_argument) naming `where` and the bad field.
  void validate(const std::string& where) const;

  // Parameter counts: all, and those in matmuls (what the FLOP count uses).
  int64_t num_params() const;
  int64_t num_matmul_params() const;
  // Model FLOPs of one training step (forward + backward) per token at
  // sequence length T: 6 * matmul params + 6 * n_layer * T * d_model for
  // causal attention (QK^T and PV, halved by the mask). Recomputation inside
  // flash attention is not counted (standard MFU accounting).
  double train_flops_per_token(int64_t T) const;

  nlohmann::json to_hf_json() const;
  static ModelConfig from_hf_json(const nlohmann::json& j, const std::string& where);
};

// Named presets: "tiny" (tests), "small" (the default pretraining run),
// "d12" (GPT-2 small sized, the benchmark), "d24".
ModelConfig model_preset(const std::string& name);

}  // namespace shog
