// The model an alignment trainer fine-tunes: a model directory loaded into a
// Transformer, with its tokenizer and chat template, trained either fully
// (every weight) or through a LoRA adapter (the base frozen). It hands the
// optimizer whichever block trains, and saves the result as a model
// directory (full) or as a PEFT adapter directory (LoRA) next to which
// `shoggoth lora merge` builds a full model.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "core/dtype.h"
#include "model/lora.h"
#include "model/transformer.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "train/config_fields.h"

namespace shog {

// [model] keys shared by every alignment trainer.
struct FinetuneSettings {
  std::string init;                 // model directory (or pretrain run dir) to start from
  std::string adapter;              // optional LoRA adapter to load and keep training
  std::string dtype = "bf16";
  int64_t lora_rank = 0;            // 0: full fine-tuning
  double lora_alpha = 16, lora_dropout = 0;
  std::string lora_targets = "q,k,v,o,gate,up,down";
  void register_fields(ConfigFields& f);
  void validate() const;
  bool uses_lora() const { return lora_rank > 0 || !adapter.empty(); }
};

class FinetuneModel {
 public:
  FinetuneModel(const FinetuneSettings& s, uint64_t seed);

  Transformer& model() { return *model_; }
  const Tokenizer& tokenizer() const { return *tok_; }
  const ChatTemplate& chat() const { return *chat_; }
  int32_t pad_id() const { return pad_; }
  LoraAdapter* adapter() { return lora_ ? &*lora_ : nullptr; }

  // The block the optimizer updates: the adapter's, or the whole model's.
  const ParamTable& train_table() const;
  float* train_params();
  float* train_grads();
  bf16* train_params16();  // the bf16 copy to refresh in the optimizer step, or nullptr
  void zero_grad();
  int64_t trainable_floats() const { return lora_ ? lora_->num_floats() : model_->num_floats(); }

  // A model directory (config.json, model.safetensors, tokenizer.json), or
  // an adapter directory (adapter_model.safetensors, adapter_config.json and
  // tokenizer.json), each file written atomically.
  void save(const std::string& dir) const;

 private:
  std::unique_ptr<Transformer> model_;
  std::optional<Tokenizer> tok_;
  std::optional<ChatTemplate> chat_;
  std::optional<LoraAdapter> lora_;
  int32_t pad_ = 0;
  std::string init_dir_;
};

}  // namespace shog
