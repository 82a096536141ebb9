#include "align/finetune_model.h"

#include <cstring>
#include <sstream>

#include "core/error.h"
#include "core/file_io.h"
#include "interop/model_dir.h"

namespace shog {

void FinetuneSettings::register_fields(ConfigFields& f) {
  f.add("model.init", "model directory to start from (a pretrain/sft output or an imported model)", &init);
  f.add("model.adapter", "LoRA adapter directory to load and continue training (implies LoRA)", &adapter);
  f.add("model.dtype", "compute dtype: f32 or bf16", &dtype);
  f.add("model.lora_rank", "LoRA rank (0: full fine-tuning)", &lora_rank);
  f.add("model.lora_alpha", "LoRA alpha (scale alpha/rank)", &lora_alpha);
  f.add("model.lora_dropout", "LoRA dropout on the adapter's input", &lora_dropout);
  f.add("model.lora_targets", "LoRA target modules, comma-separated: q,k,v,o,gate,up,down", &lora_targets);
}

static std::vector<LoraTarget> parse_targets(const std::string& list) {
  std::vector<LoraTarget> out;
  std::stringstream ss(list);
  for (std::string t; std::getline(ss, t, ',');) {
    if (t.empty()) continue;
    try {
      out.push_back(parse_lora_target(t));
    } catch (const Error& e) {
      throw Error(ErrorKind::invalid_argument, "model.lora_targets", e.what());
    }
  }
  SHOG_CHECK(!out.empty(), ErrorKind::invalid_argument, "model.lora_targets", "no targets given");
  return out;
}

void FinetuneSettings::validate() const {
  SHOG_CHECK(!init.empty(), ErrorKind::invalid_argument, "model.init", "no model to start from (set --init)");
  parse_dtype(dtype, "model.dtype");
  SHOG_CHECK(lora_rank >= 0, ErrorKind::invalid_argument, "model.lora_rank", "must be >= 0");
  SHOG_CHECK(lora_alpha > 0, ErrorKind::invalid_argument, "model.lora_alpha", "must be > 0");
  SHOG_CHECK(lora_dropout >= 0 && lora_dropout < 1, ErrorKind::invalid_argument, "model.lora_dropout",
             "must be in [0, 1)");
  if (lora_rank > 0) parse_targets(lora_targets);
}

FinetuneModel::FinetuneModel(const FinetuneSettings& s, uint64_t seed) : init_dir_(s.init) {
  s.validate();
  ModelDir src = load_model_dir(s.init);
  SHOG_CHECK(src.tokenizer.has_value(), ErrorKind::invalid_argument, s.init,
             "has no tokenizer.json (the alignment trainers need the chat template's tokenizer)");
  tok_ = std::move(*src.tokenizer);
  chat_.emplace(*tok_);
  if (auto ids = find_special_ids(*tok_); ids.pad) pad_ = *ids.pad;
  model_ = std::make_unique<Transformer>(src.config, parse_dtype(s.dtype, "model.dtype"));
  std::memcpy(model_->params(), src.params.data(), src.params.size() * sizeof(float));
  model_->sync_compute_weights();
  if (!s.adapter.empty()) {
    lora_ = LoraAdapter::load(s.adapter, src.config);
  } else if (s.lora_rank > 0) {
    LoraConfig lc;
    lc.rank = s.lora_rank;
    lc.alpha = float(s.lora_alpha);
    lc.dropout = float(s.lora_dropout);
    lc.targets = parse_targets(s.lora_targets);
    lc.base_model_name_or_path = s.init;
    lora_.emplace(src.config, lc);
    lora_->init(seed);
  }
  if (lora_) {
    model_->attach_lora(&*lora_);
    model_->set_dropout_seed(seed);
  }
}

const ParamTable& FinetuneModel::train_table() const { return lora_ ? lora_->table() : model_->table(); }
float* FinetuneModel::train_params() { return lora_ ? lora_->params() : model_->params(); }
float* FinetuneModel::train_grads() { return lora_ ? lora_->grads() : model_->grads(); }
bf16* FinetuneModel::train_params16() { return lora_ ? nullptr : model_->params16(); }

void FinetuneModel::zero_grad() {
  if (lora_) lora_->zero_grad();
  else model_->zero_grad();
}

void FinetuneModel::save(const std::string& dir) const {
  if (lora_) {
    lora_->save(dir);
    tok_->save(dir + "/tokenizer.json");
    return;
  }
  ModelDir m;
  m.config = model_->config();
  m.params.assign(model_->params(), model_->params() + model_->num_floats());
  m.tokenizer = *tok_;
  save_model_dir(dir, m);
}

}  // namespace shog
