// A model under evaluation, named as the report names it: either a full
// model directory (config.json, model.safetensors, a tokenizer; a pretrain
// checkpoint finds its tokenizer in the run directory) or a LoRA adapter
// directory (adapter_config.json, adapter_model.safetensors), whose base is
// loaded from adapter_config.json's base_model_name_or_path and which is
// applied on top of it. The adapter is kept apart from the base rather than
// attached: the engine applies it per request (GenerationRequest::adapter)
// and the log-prob pass attaches it only while it runs.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/dtype.h"
#include "model/lora.h"
#include "model/transformer.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace shog {

// "NAME=DIR", or "DIR" alone (the name is then the directory's last
// component). Names become file names and report columns: letters, digits,
// '.', '_' and '-' only. Throws shog::Error (invalid_argument, where "--model").
struct ModelSpec {
  std::string name, dir;
};
ModelSpec parse_model_spec(std::string_view arg);

class EvalModel {
 public:
  // Throws shog::Error naming the directory or file on anything missing or
  // corrupt, and when the tokenizer has no chat markers.
  static EvalModel load(const ModelSpec& spec, DType compute);

  const std::string& name() const { return spec_.name; }
  const std::string& dir() const { return spec_.dir; }
  // The base model directory of an adapter; empty for a full model.
  const std::string& base_dir() const { return base_dir_; }
  Transformer& model() { return *model_; }
  const LoraAdapter* adapter() const { return adapter_ ? &*adapter_ : nullptr; }
  LoraAdapter* adapter() { return adapter_ ? &*adapter_ : nullptr; }
  const Tokenizer& tokenizer() const { return *tok_; }
  const ChatTemplate& chat() const { return *chat_; }
  int32_t pad_id() const { return pad_; }

 private:
  ModelSpec spec_;
  std::string base_dir_;
  std::unique_ptr<Transformer> model_;
  std::optional<LoraAdapter> adapter_;
  std::unique_ptr<Tokenizer> tok_;
  std::unique_ptr<ChatTemplate> chat_;
  int32_t pad_ = 0;
};

// Attaches an EvalModel's adapter (if it has one) to its model for the scope,
// so that log-probs computed meanwhile are the adapted model's.
class AdapterAttached {
 public:
  explicit AdapterAttached(EvalModel& m) : model_(m.model()) { model_.attach_lora(m.adapter()); }
  ~AdapterAttached() { model_.attach_lora(nullptr); }
  AdapterAttached(const AdapterAttached&) = delete;
  AdapterAttached& operator=(const AdapterAttached&) = delete;

 private:
  Transformer& model_;
};

// The base directory an adapter names (adapter_config.json's
// base_model_name_or_path): an absolute path as it is; a relative one as
// given from the working directory when it exists there (training records
// the path it was given), else relative to the adapter directory. Throws
// shog::Error (invalid_argument) naming adapter_config.json when it names
// none or a directory that does not exist.
std::string adapter_base_dir(const std::string& adapter_dir);

}  // namespace shog
