#include "model/model_config.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace shog {

void ModelConfig::validate(const std::string& where) const {
  auto bad = [&](const char* field, const std::string& why) {
    throw Error(ErrorKind::invalid_argument, where, fmt::format("model.{}: {}", field, why));
  };
  if (n_layer < 1) bad("n_layer", "must be >= 1");
  if (d_model < 1) bad("d_model", "must be >= 1");
  if (n_head < 1 || d_model % n_head) bad("n_head", fmt::format("must divide d_model={} (got {})", d_model, n_head));
  if (head_dim() % 2) bad("n_head", fmt::format("head_dim d_model/n_head={} must be even for RoPE", head_dim()));
  if (n_kv_head < 1 || n_head % n_kv_head)
    bad("n_kv_head", fmt::format("must divide n_head={} (got {})", n_head, n_kv_head));
  if (ffn_hidden < 1) bad("ffn_hidden", "must be >= 1");
  if (vocab < 2) bad("vocab", "must be >= 2");
  if (max_seq < 1) bad("max_seq", "must be >= 1");
  if (!(rope_theta > 0)) bad("rope_theta", "must be > 0");
  if (!(norm_eps > 0)) bad("norm_eps", "must be > 0");
}

int64_t ModelConfig::num_matmul_params() const {
  int64_t C = d_model, per_layer = C * qkv_dim() + n_head * head_dim() * C + 3 * C * ffn_hidden;
  return n_layer * per_layer + vocab * C;  // the output head is a matmul even when tied
}

int64_t ModelConfig::num_params() const {
  int64_t C = d_model;
  int64_t p = n_layer * (C * qkv_dim() + n_head * head_dim() * C + 3 * C * ffn_hidden + 2 * C) + C;
  p += vocab * C;                        // embedding
  if (!tie_embeddings) p += vocab * C;  // separate lm_head
  if (smear) p += C;                     // the smear gain
  return p;
}

double ModelConfig::train_flops_per_token(int64_t T) const {
  return 6.0 * double(num_matmul_params()) + 6.0 * double(n_layer) * double(T) * double(d_model);
}

nlohmann::json ModelConfig::to_hf_json() const {
  nlohmann::json j = {
      {"architectures", {"LlamaForCausalLM"}},
      {"model_type", "llama"},
      {"vocab_size", vocab},
      {"hidden_size", d_model},
      {"intermediate_size", ffn_hidden},
      {"num_hidden_layers", n_layer},
      {"num_attention_heads", n_head},
      {"num_key_value_heads", n_kv_head},
      {"max_position_embeddings", max_seq},
      {"rope_theta", rope_theta},
      {"rms_norm_eps", norm_eps},
      {"tie_word_embeddings", tie_embeddings},
      {"hidden_act", "silu"},
      {"attention_bias", false},
      {"torch_dtype", "float32"},
  };
  // Only when on, so a plain model's config.json stays a plain LlamaConfig.
  if (smear) j["shog_smear"] = true;
  return j;
}

ModelConfig ModelConfig::from_hf_json(const nlohmann::json& j, const std::string& where) {
  SHOG_CHECK(j.is_object(), ErrorKind::bad_input, where, "config must be a JSON object");
  ModelConfig c;
  auto get_int = [&](const char* key, int64_t& dst, bool required) {
    if (!j.contains(key)) {
      SHOG_CHECK(!required, ErrorKind::bad_input, where, "missing key '{}'", key);
      return;
    }
    SHOG_CHECK(j[key].is_number_integer(), ErrorKind::bad_input, where, "key '{}' must be an integer", key);
    dst = j[key].get<int64_t>();
  };
  auto get_float = [&](const char* key, float& dst) {
    if (!j.contains(key)) return;
    SHOG_CHECK(j[key].is_number(), ErrorKind::bad_input, where, "key '{}' must be a number", key);
    dst = j[key].get<float>();
  };
  get_int("vocab_size", c.vocab, true);
  get_int("hidden_size", c.d_model, true);
  get_int("intermediate_size", c.ffn_hidden, true);
  get_int("num_hidden_layers", c.n_layer, true);
  get_int("num_attention_heads", c.n_head, true);
  c.n_kv_head = c.n_head;
  get_int("num_key_value_heads", c.n_kv_head, false);
  get_int("max_position_embeddings", c.max_seq, false);
  get_float("rope_theta", c.rope_theta);
  get_float("rms_norm_eps", c.norm_eps);
  if (j.contains("tie_word_embeddings")) {
    SHOG_CHECK(j["tie_word_embeddings"].is_boolean(), ErrorKind::bad_input, where,
               "key 'tie_word_embeddings' must be a boolean");
    c.tie_embeddings = j["tie_word_embeddings"].get<bool>();
  }
  if (j.contains("shog_smear")) {
    SHOG_CHECK(j["shog_smear"].is_boolean(), ErrorKind::bad_input, where, "key 'shog_smear' must be a boolean");
    c.smear = j["shog_smear"].get<bool>();
  }
  c.validate(where);
  return c;
}

ModelConfig model_preset(const std::string& name) {
  ModelConfig c;
  if (name == "tiny") {
    c.n_layer = 2, c.d_model = 64, c.n_head = 4, c.n_kv_head = 2, c.ffn_hidden = 176, c.vocab = 512, c.max_seq = 64;
  } else if (name == "small") {
    c.n_layer = 4, c.d_model = 256, c.n_head = 4, c.n_kv_head = 4, c.ffn_hidden = 704, c.vocab = 4096,
    c.max_seq = 256;
  } else if (name == "d12") {
    c.n_layer = 12, c.d_model = 768, c.n_head = 12, c.n_kv_head = 12, c.ffn_hidden = 2048, c.vocab = 50304,
    c.max_seq = 1024;
  } else if (name == "d24") {
    c.n_layer = 24, c.d_model = 1024, c.n_head = 16, c.n_kv_head = 16, c.ffn_hidden = 2816, c.vocab = 50304,
    c.max_seq = 1024;
  } else {
    throw Error(ErrorKind::invalid_argument, "model.preset",
                fmt::format("unknown preset '{}' (expected tiny, small, d12 or d24)", name));
  }
  return c;
}

}  // namespace shog
