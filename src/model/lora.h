// LoRA adapters (Hu et al. 2021) on the transformer's linear layers:
//
//   y = W x + (alpha / r) * B (A dropout(x)),   A [r, in], B [out, r]
//
// An adapter owns its own parameter and gradient blocks (a ParamTable of
// its own, so AdamWOptimizer trains it unchanged) and never touches the base
// weights: attach it to a Transformer and the base stays frozen while only
// A and B receive gradients. Entries carry PEFT names, e.g.
//   base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight
// and save() writes adapter_model.safetensors + adapter_config.json as PEFT
// does, so adapters move between shoggoth and Hugging Face PEFT.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/model_config.h"
#include "model/parameters.h"

namespace shog {

enum class LoraTarget : uint8_t { q, k, v, o, gate, up, down };
const char* lora_target_name(LoraTarget t);          // "q_proj", ...
LoraTarget parse_lora_target(const std::string& s);  // "q" or "q_proj"; throws invalid_argument

struct LoraConfig {
  int64_t rank = 8;
  float alpha = 16;
  float dropout = 0;
  std::vector<LoraTarget> targets{LoraTarget::q, LoraTarget::v};
  // Written to adapter_config.json when known (PEFT records the base model).
  std::string base_model_name_or_path;
  float scale() const { return alpha / float(rank); }
};

class LoraAdapter {
 public:
  // Throws invalid_argument for a rank < 1, a non-finite alpha, a dropout
  // outside [0, 1) or no targets. Parameters start at zero (call init()).
  LoraAdapter(const ModelConfig& base, LoraConfig cfg);
  // Copies are deep (own blocks); moves keep the blocks.
  LoraAdapter(const LoraAdapter& o);
  LoraAdapter& operator=(const LoraAdapter& o);
  LoraAdapter(LoraAdapter&&) = default;
  LoraAdapter& operator=(LoraAdapter&&) = default;

  // A as PEFT initialises it (Kaiming-uniform), B = 0: a fresh adapter
  // leaves the model's outputs unchanged.
  void init(uint64_t seed);

  const LoraConfig& config() const { return cfg_; }
  const ModelConfig& base_config() const { return base_; }
  const ParamTable& table() const { return table_; }
  float* params() { return params_.data<float>(); }
  const float* params() const { return params_.data<float>(); }
  float* grads() { return grads_.data<float>(); }
  const float* grads() const { return grads_.data<float>(); }
  int64_t num_floats() const { return table_.total(); }
  void zero_grad();

  // (A, B) of one layer's target, or nullptrs when it is not adapted.
  struct Pair { float* a = nullptr; float* b = nullptr; int64_t in = 0, out = 0; };
  struct ConstPair { const float* a = nullptr; const float* b = nullptr; int64_t in = 0, out = 0; };
  Pair weights(int64_t layer, LoraTarget t);
  ConstPair weights(int64_t layer, LoraTarget t) const;  // for inference on a shared adapter
  Pair grads_of(int64_t layer, LoraTarget t);
  bool adapts(LoraTarget t) const;
  // Throws invalid_argument naming `where` unless `model` has the layer
  // shapes of this adapter's base (vocab and context may differ).
  void check_base(const ModelConfig& model, const std::string& where) const;

  // <dir>/adapter_model.safetensors and <dir>/adapter_config.json (PEFT),
  // written atomically. load() validates shapes against `base`, naming the
  // file and tensor on any mismatch.
  void save(const std::string& dir) const;
  static LoraAdapter load(const std::string& dir, const ModelConfig& base);

  // W += scale * B A for every adapted matrix of a base parameter block.
  void merge_into(const ParamTable& base_table, float* base_params) const;

 private:
  int64_t slot(int64_t layer, LoraTarget t) const;  // index of A in table_, or -1

  ModelConfig base_;
  LoraConfig cfg_;
  std::vector<int32_t> slots_;  // [layer * 7 + target] -> entry index of A (B follows), or -1
  ParamTable table_;            // built from cfg_, filling slots_ (declared before it)
  Tensor params_, grads_;
};

// The input and output widths of one target's base matrix.
int64_t lora_in_features(const ModelConfig& c, LoraTarget t);
int64_t lora_out_features(const ModelConfig& c, LoraTarget t);
constexpr int kLoraTargets = 7;

}  // namespace shog
