// All parameters of a model live in one f32 block; gradients, and each
// optimizer moment, in blocks of the same layout, so an entry's offset finds
// its value, gradient and moments alike. Entries carry Hugging Face names
// (what checkpoints store) even where the model fuses them: q/k/v are three
// consecutive row blocks of one [qkv_dim, C] matrix, gate/up two of [2F, C],
// so one GEMM computes all of them and export needs no copy.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"
#include "model/model_config.h"

namespace shog {

struct ParamEntry {
  std::string name;  // HF name, e.g. "model.layers.0.self_attn.q_proj.weight"
  Shape shape;
  int64_t offset;    // in floats, into the parameter block
  int64_t numel;
  bool decay;        // weight decay applies (2-D matrices, not norms)
  bool is_matrix;    // used by a GEMM: has a bf16 compute copy
  bool frozen = false;
};

// Pointers into the parameter (or gradient) block for one layer, fused views.
struct LayerParams {
  float* attn_norm;  // [C]
  float* wqkv;       // [(H + 2 KVH) hd, C]: q_proj | k_proj | v_proj
  float* wo;         // [C, H hd]
  float* mlp_norm;   // [C]
  float* wgu;        // [2F, C]: gate_proj | up_proj
  float* wdown;      // [C, F]
};

struct ParamViews {
  float* wte;         // [V, C]
  float* smear = nullptr;  // [C] when ModelConfig::smear
  std::vector<LayerParams> layers;
  float* final_norm;  // [C]
  float* lm_head;     // [V, C]; == wte when tied
};

// A model's table lists the embedding (and the smear gain when the model has
// one), then kEntriesPerLayer entries per layer (norm, q, k, v, o, norm, gate,
// up, down), then the final norm and, when untied, the head: so each layer is
// one contiguous stretch of a block, starting at entry first_layer_entry().
constexpr int64_t kEntriesPerLayer = 9;

class ParamTable {
 public:
  explicit ParamTable(const ModelConfig& cfg);
  // A block of other parameters (LoRA adapters, heads): the entries in the
  // order given, offsets and sizes laid out from their shapes. Such a table
  // has no ParamViews (views() is for a model's own layout).
  explicit ParamTable(std::vector<ParamEntry> entries);

  const std::vector<ParamEntry>& entries() const { return entries_; }
  std::vector<ParamEntry>& entries() { return entries_; }
  const ParamEntry* find(const std::string& name) const;
  // Index of layer 0's first entry in a model's table.
  int64_t first_layer_entry() const { return cfg_.smear ? 2 : 1; }
  int64_t total() const { return total_; }  // floats in the block

  // Views into any block with this layout (parameters, gradients, ...).
  ParamViews views(float* block) const;

 private:
  ModelConfig cfg_;
  std::vector<ParamEntry> entries_;
  int64_t total_ = 0;
  bool model_layout_ = true;
};

}  // namespace shog
