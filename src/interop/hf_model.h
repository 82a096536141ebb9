// A shoggoth model directory <-> a Hugging Face Llama model directory
// (model.safetensors or shards + model.safetensors.index.json, config.json,
// tokenizer.json in HF's format, tokenizer_config.json,
// generation_config.json). Tensor names are the same on both sides (our
// checkpoints already use HF's); what changes is the dtype, the sharding and
// the tokenizer's file format.
#pragma once
#include <string>

#include "interop/model_dir.h"

namespace shog {

void export_hf(const ModelDir& m, const std::string& out_dir, WeightDType dtype);
// Reads F32/BF16/F16 weights, sharded or not. Refuses configs we would not
// run identically (biases, rope scaling, another activation or head_dim).
ModelDir import_hf(const std::string& dir);

}  // namespace shog
