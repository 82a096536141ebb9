#include "infer/inference_model.h"

#include <filesystem>

#include "core/error.h"
#include "core/file_io.h"
#include "model/model_io.h"

namespace shog {

InferenceModel load_inference_model(const std::string& dir, const std::string& tokenizer_path, DType compute) {
  SHOG_CHECK(std::filesystem::is_directory(dir), ErrorKind::io, dir,
             "not a model directory (expected config.json and model.safetensors in it)");
  InferenceModel m;
  ModelConfig cfg = load_model_config(dir);
  m.model = std::make_unique<Transformer>(cfg, compute);
  load_model_weights(dir, *m.model);
  // A checkpoint of `shoggoth pretrain` is a step directory inside the run
  // directory, which holds the tokenizer: look in both (as interop does).
  std::string tp = tokenizer_path;
  if (tp.empty()) {
    tp = dir + "/tokenizer.json";
    if (!file_exists(tp) && file_exists(dir + "/../tokenizer.json")) tp = dir + "/../tokenizer.json";
    SHOG_CHECK(file_exists(tp), ErrorKind::io, tp, "no tokenizer here or in the parent directory; pass --tokenizer FILE");
  }
  SHOG_CHECK(file_exists(tp), ErrorKind::io, tp, "no such tokenizer file");
  m.tokenizer = std::make_unique<Tokenizer>(Tokenizer::load(tp));
  SHOG_CHECK(m.tokenizer->vocab_size() <= cfg.vocab, ErrorKind::invalid_argument, tp,
             "the tokenizer has {} tokens but the model's vocabulary is {}: not this model's tokenizer",
             m.tokenizer->vocab_size(), cfg.vocab);
  return m;
}

std::vector<int32_t> default_stop_tokens(const Tokenizer& tok) {
  std::vector<int32_t> s;
  if (auto eos = tok.special_id("<|eos|>")) s.push_back(*eos);
  return s;
}

}  // namespace shog
