// A linear head on the transformer's final hidden states: out = W h + b,
// W [n_out, C]. With n_out = 1 it is the scalar reward head (read at each
// sequence's last token) and the PPO value head (read at every token); with
// n_out = categories it is the moderation classifier (multi-label logits).
// Its parameters live in their own ParamTable-layout block so that
// AdamWOptimizer trains them, alone or beside the body; saved as
// "score.weight"/"score.bias" (HF's LlamaForSequenceClassification name).
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "core/tensor.h"
#include "model/parameters.h"

namespace shog {

class LinearHead {
 public:
  LinearHead(int64_t d_model, int64_t n_out, bool bias = true);
  // Copies are deep (own blocks); moves keep the blocks.
  LinearHead(const LinearHead& o);
  LinearHead& operator=(const LinearHead& o);
  LinearHead(LinearHead&&) = default;
  LinearHead& operator=(LinearHead&&) = default;
  void init(uint64_t seed, float std);  // W ~ N(0, std), b = 0

  int64_t d_model() const { return C_; }
  int64_t n_out() const { return n_out_; }
  const ParamTable& table() const { return table_; }
  float* params() { return params_.data<float>(); }
  const float* params() const { return params_.data<float>(); }
  float* grads() { return grads_.data<float>(); }
  const float* grads() const { return grads_.data<float>(); }
  bool has_bias() const { return bias_; }
  void zero_grad();

  // out[i, :] = W hidden[rows[i], :] + b   (hidden [*, C] row-major)
  void forward(const float* hidden, std::span<const int64_t> rows, float* out) const;
  // Given dL/dout [rows, n_out]: accumulates dW, db, and adds W^T dout into
  // hidden_grad[rows[i], :].
  void backward(const float* hidden, std::span<const int64_t> rows, const float* dout, float* hidden_grad);

  // Tensors "score.weight" [n_out, C] and "score.bias" [n_out] (when the
  // head has one) into / from a safetensors file, written atomically; load
  // names the file and tensor on a missing, misshapen or non-finite tensor.
  void save(const std::string& path) const;
  static LinearHead load(const std::string& path);

 private:
  int64_t C_, n_out_;
  bool bias_;
  ParamTable table_;
  Tensor params_, grads_;
};

}  // namespace shog
