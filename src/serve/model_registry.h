// The models and deployments of a platform, loaded once at start.
//
// One LoadedModel per [[model]]: its weights (a Transformer), tokenizer,
// chat template and the LoRA adapters declared on it. An aligned checkpoint
// is a model of its own (its weights differ from the base's everywhere); a
// LoRA adapter is not: its deployments run on the base's Transformer, so
// deployments that share a base share its weights in memory, and the
// scheduler batches requests for different adapters of one base together.
//
// A Deployment resolves a [[deployment]] against them: which model and
// adapter, the effective context limit, the stop tokens.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/transformer.h"
#include "serve/config.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace shog {
class LoraAdapter;
}

namespace shog::serve {

struct LoadedModel {
  const ModelSpec* spec = nullptr;
  std::unique_ptr<Transformer> model;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<ChatTemplate> chat;  // null when the tokenizer lacks the chat markers
  std::optional<int32_t> bos;
  std::vector<int32_t> eos;            // default stop tokens (<|eos|>)
  std::map<std::string, std::unique_ptr<LoraAdapter>> adapters;
};

struct Deployment {
  const DeploymentSpec* spec = nullptr;
  size_t model_index = 0;              // into ModelRegistry::models()
  const LoraAdapter* adapter = nullptr;
  int64_t max_context = 0;             // resolved: <= the model's max_seq
  bool allows_tier(const std::string& tier) const;
};

class ModelRegistry {
 public:
  // Loads every model and adapter of `cfg` (which must outlive the registry).
  // Throws shog::Error naming the file or key on anything missing or
  // inconsistent (a deployment's max_context above its model's context).
  explicit ModelRegistry(const PlatformConfig& cfg);
  ~ModelRegistry();

  const PlatformConfig& config() const { return cfg_; }
  std::vector<LoadedModel>& models() { return models_; }
  const std::vector<LoadedModel>& models() const { return models_; }
  const std::vector<Deployment>& deployments() const { return deployments_; }
  const Deployment* find(const std::string& name) const;

 private:
  const PlatformConfig& cfg_;
  std::vector<LoadedModel> models_;
  std::vector<Deployment> deployments_;
};

}  // namespace shog::serve
