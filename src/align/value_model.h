// PPO's value function V(s_t), read at every reply position: either a
// linear head on the policy's own final hidden states ("head": one body,
// both losses flow into it), or a separate transformer with its own head
// ("separate", as InstructGPT, which initialises it from the reward model).
// A separate model starts from a directory: a reward model (its body and
// its score head; a LoRA reward model is merged into its base) or any model
// directory of the policy's vocabulary (its value_head.safetensors when it
// has one, else a new head at zero).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "align/packing.h"
#include "model/linear_head.h"
#include "model/transformer.h"

namespace shog {

class ValueModel {
 public:
  // A head on `policy` (not owned), initialised to zero so that V starts at 0.
  explicit ValueModel(Transformer& policy);
  // A separate model loaded from `dir`, checked against the policy's shape
  // (same vocabulary; a context of at least seq_len).
  ValueModel(const std::string& dir, DType dt, const ModelConfig& policy, int64_t seq_len);

  bool separate() const { return own_ != nullptr; }
  LinearHead& head() { return head_; }
  Transformer& body() { return *body_; }

  // V at `rows` of the packed batch b. With a head on the policy, the
  // policy's forward pass over b must be the last one it ran; a separate
  // body runs its own forward here.
  std::vector<float> values(const PackedBatch& b, std::span<const int64_t> rows);
  // Backward from dL/dV at those rows. On the policy's body this only adds
  // into the policy's hidden_grad(), so it must come after the policy's
  // forward and before its logprob_backward() (which runs the body's
  // backward with both gradients); a separate body runs its backward here.
  void backward(std::span<const int64_t> rows, std::span<const float> d_values);

  void zero_grad();
  // value_head.safetensors in out_dir; a separate body also as a model
  // directory, out_dir/value_model (with the head beside it, so that it can
  // start a later run's value model).
  void save(const std::string& out_dir) const;

 private:
  std::unique_ptr<Transformer> own_;
  Transformer* body_;
  LinearHead head_;
};

}  // namespace shog
