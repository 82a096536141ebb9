// A model directory opened for inference: weights + config.json (model_io)
// and its tokenizer, with the compute dtype chosen. What generate, chat and
// later the server open, so that they report a missing or corrupt file the
// same way.
#pragma once
#include <memory>
#include <string>

#include "core/dtype.h"
#include "model/transformer.h"
#include "tokenizer/tokenizer.h"

namespace shog {

struct InferenceModel {
  std::unique_ptr<Transformer> model;
  std::unique_ptr<Tokenizer> tokenizer;
};

// tokenizer_path "" means <dir>/tokenizer.json, else <dir>/../tokenizer.json
// (the run directory of a pretrain checkpoint). Throws shog::Error naming the
// missing or corrupt file (config.json, model.safetensors, the tokenizer), or
// a tokenizer whose vocabulary does not fit the model's.
InferenceModel load_inference_model(const std::string& dir, const std::string& tokenizer_path, DType compute);

// <|eos|> when the tokenizer has it: where a base model's text ends.
std::vector<int32_t> default_stop_tokens(const Tokenizer& tok);

}  // namespace shog
