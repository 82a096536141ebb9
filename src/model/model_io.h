// Loading and saving a model's weights and shape in the Hugging Face Llama
// layout: <dir>/model.safetensors (HF tensor names, f32) + <dir>/config.json.
// Training checkpoints, inference and interop all read models through here.
#pragma once
#include <string>

#include <vector>

#include "core/safetensors.h"
#include "model/transformer.h"

namespace shog {

// One safetensors entry per ParamTable entry of `block` (parameters,
// gradients or optimizer moments: same layout), named prefix + HF name.
std::vector<SafetensorsTensor> param_block_tensors(const ParamTable& t, const float* block, const std::string& prefix);
// The inverse: fills `block` from a file, checking every name and shape.
void load_param_block(const SafetensorsFile& f, const ParamTable& t, float* block, const std::string& prefix);

// Writes model.safetensors and config.json into an existing directory, each atomically.
void save_model_weights(const std::string& dir, const Transformer& model);
// Loads model.safetensors from `dir` into `model` (shapes must match its config).
void load_model_weights(const std::string& dir, Transformer& model);
// Reads <dir>/config.json; throws shog::Error naming the file and key.
ModelConfig load_model_config(const std::string& dir);

}  // namespace shog
