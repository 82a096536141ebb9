#include "align/value_model.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_io.h"
#include "interop/model_dir.h"
#include "model/lora.h"

namespace shog {

ValueModel::ValueModel(Transformer& policy) : body_(&policy), head_(policy.config().d_model, 1) {
  head_.init(0, 0.0f);
}

// The body of a value model directory: a model directory, or a reward
// model's (merging a LoRA reward model's adapter into its base).
static ModelDir load_value_body(const std::string& dir, std::string& head_path) {
  const std::string meta_path = dir + "/reward.json";
  if (!file_exists(meta_path)) {
    if (file_exists(dir + "/value_head.safetensors")) head_path = dir + "/value_head.safetensors";
    return load_model_dir(dir);
  }
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(read_file(meta_path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::bad_input, meta_path, e.what());
  }
  head_path = dir + "/" + meta.value("head", "score.safetensors");
  if (!meta.contains("base")) return load_model_dir(dir);
  ModelDir body = load_model_dir(meta["base"].get<std::string>());
  LoraAdapter::load(dir, body.config).merge_into(ParamTable(body.config), body.params.data());
  return body;
}

ValueModel::ValueModel(const std::string& dir, DType dt, const ModelConfig& policy, int64_t seq_len)
    : head_(1, 1) {
  std::string head_path;
  ModelDir src = load_value_body(dir, head_path);
  SHOG_CHECK(src.config.vocab == policy.vocab, ErrorKind::invalid_argument, "ppo.value_init",
             "{} has a vocabulary of {} tokens, the policy {}: the value model reads the policy's tokens", dir,
             src.config.vocab, policy.vocab);
  SHOG_CHECK(src.config.max_seq >= seq_len, ErrorKind::invalid_argument, "ppo.value_init",
             "{} has a context of {} tokens, less than train.seq_len = {}", dir, src.config.max_seq, seq_len);
  own_ = std::make_unique<Transformer>(src.config, dt);
  std::memcpy(own_->params(), src.params.data(), src.params.size() * sizeof(float));
  own_->sync_compute_weights();
  body_ = own_.get();
  const int64_t C = src.config.d_model;
  if (head_path.empty()) {
    head_ = LinearHead(C, 1);
    head_.init(0, 0.0f);
  } else {
    head_ = LinearHead::load(head_path);
    SHOG_CHECK(head_.d_model() == C && head_.n_out() == 1, ErrorKind::bad_input, head_path,
               "head does not fit the model (d_model {})", C);
  }
}

std::vector<float> ValueModel::values(const PackedBatch& b, std::span<const int64_t> rows) {
  if (own_) own_->forward(b.inputs.data(), b.B, b.T, b.seg_lens);
  std::vector<float> v(rows.size());
  head_.forward(body_->hidden(), rows, v.data());
  return v;
}

void ValueModel::backward(std::span<const int64_t> rows, std::span<const float> d_values) {
  head_.backward(body_->hidden(), rows, d_values.data(), body_->hidden_grad());
  if (own_) own_->backward();
}

void ValueModel::zero_grad() {
  head_.zero_grad();
  if (own_) own_->zero_grad();
}

void ValueModel::save(const std::string& out_dir) const {
  head_.save(out_dir + "/value_head.safetensors");
  if (!own_) return;
  ModelDir m;
  m.config = own_->config();
  m.params.assign(own_->params(), own_->params() + own_->num_floats());
  save_model_dir(out_dir + "/value_model", m);
  // Beside its body too, so that value_init = out_dir/value_model resumes it.
  head_.save(out_dir + "/value_model/value_head.safetensors");
}

}  // namespace shog
