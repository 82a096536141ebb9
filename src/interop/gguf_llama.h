// A shoggoth model directory <-> a GGUF file of llama.cpp's LLAMA
// architecture: llama.* hyperparameters, llama.cpp tensor names with q/k rows
// reordered for ggml's rope (llama_rope.h), and the tokenizer as a "gpt2"
// (byte-level BPE) vocabulary. The mapping is tabled in docs/interop.md.
#pragma once
#include <string>

#include "core/gguf.h"
#include "interop/model_dir.h"

namespace shog {

// Matrices and the embedding in `dtype`; norm weights always f32 (ggml's
// rms_norm multiplies by them in f32, and llama.cpp's converter keeps them so).
void export_gguf(const ModelDir& m, const std::string& out_path, WeightDType dtype);
// Reads F32/F16/BF16 tensors (quantized ones are refused) and undoes the
// q/k reordering. Throws shog::Error naming the file and key or tensor.
ModelDir import_gguf(const std::string& path);
ModelDir import_gguf(const GgufFile& f);

// llama.cpp's name for the pre-tokenizer whose regex equals `pattern` with
// the same merge rule, or "" when llama.cpp has none (export then refuses).
std::string llama_cpp_pre_name(const std::string& pattern, bool whole_piece_shortcut);

}  // namespace shog
