// A shoggoth model directory, as `shoggoth pretrain` writes it and every
// interop command reads or writes it:
//   model.safetensors  f32 weights, Hugging Face Llama tensor names
//   config.json        LlamaConfig keys (plus bos/eos ids when known)
//   tokenizer.json     OUR tokenizer format (docs/formats.md), despite the name
// Held as plain parameter floats in ParamTable layout, without a Transformer:
// converting a model needs neither gradients nor activations.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/model_config.h"
#include "model/parameters.h"
#include "tokenizer/tokenizer.h"

namespace shog {

struct ModelDir {
  ModelConfig config;
  std::vector<float> params;  // ParamTable(config) layout
  std::optional<Tokenizer> tokenizer;

  const float* param(const ParamTable& t, const std::string& name) const;
};

// Reads config.json, model.safetensors and (when present) tokenizer.json,
// from `dir` or else from its parent (a pretrain run directory).
// Throws shog::Error naming the file (invalid_argument when `dir` is not a
// model directory at all).
ModelDir load_model_dir(const std::string& dir);
// Creates `dir` and writes the three files, each atomically.
void save_model_dir(const std::string& dir, const ModelDir& m);

// The ids that generation and other ecosystems need to know about, found by
// the special-token names of our trained tokenizers and the common
// alternatives of imported ones.
struct SpecialIds {
  std::optional<int32_t> bos, eos, pad;
};
SpecialIds find_special_ids(const Tokenizer& tok);

// The element type of exported weights (norm weights stay f32 in GGUF).
enum class WeightDType { f32, f16, bf16 };
WeightDType parse_weight_dtype(std::string_view s, const std::string& where);
std::string_view weight_dtype_name(WeightDType t);

}  // namespace shog
