#include "interop/model_dir.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_io.h"
#include "core/safetensors.h"
#include "model/model_io.h"

namespace shog {

const float* ModelDir::param(const ParamTable& t, const std::string& name) const {
  const ParamEntry* e = t.find(name);
  SHOG_ASSERT(e != nullptr);
  return params.data() + e->offset;
}

ModelDir load_model_dir(const std::string& dir) {
  SHOG_CHECK(file_exists(dir + "/config.json") && file_exists(dir + "/model.safetensors"),
             ErrorKind::invalid_argument, dir,
             "not a model directory (expected config.json and model.safetensors in it)");
  ModelDir m;
  m.config = load_model_config(dir);
  ParamTable table(m.config);
  m.params.assign(size_t(table.total()), 0.0f);
  SafetensorsFile f(dir + "/model.safetensors");
  load_param_block(f, table, m.params.data(), "");
  // `shoggoth pretrain` copies the tokenizer once into the run directory,
  // beside its step_NNNNNN checkpoint directories.
  for (const std::string& p : {dir + "/tokenizer.json", dir + "/../tokenizer.json"})
    if (file_exists(p)) {
      m.tokenizer = Tokenizer::load(p);
      break;
    }
  return m;
}

void save_model_dir(const std::string& dir, const ModelDir& m) {
  make_dirs(dir);
  ParamTable table(m.config);
  SHOG_ASSERT(int64_t(m.params.size()) == table.total());
  write_safetensors(dir + "/model.safetensors", param_block_tensors(table, m.params.data(), ""),
                    {{"format", "pt"}, {"producer", "shoggoth"}});
  nlohmann::json cfg = m.config.to_hf_json();
  if (m.tokenizer) {
    SpecialIds ids = find_special_ids(*m.tokenizer);
    if (ids.bos) cfg["bos_token_id"] = *ids.bos;
    if (ids.eos) cfg["eos_token_id"] = *ids.eos;
    m.tokenizer->save(dir + "/tokenizer.json");
  }
  write_file_atomic(dir + "/config.json", cfg.dump(2) + "\n");
}

SpecialIds find_special_ids(const Tokenizer& tok) {
  auto first = [&](std::initializer_list<const char*> names) -> std::optional<int32_t> {
    for (const char* n : names)
      if (auto id = tok.special_id(n)) return id;
    return std::nullopt;
  };
  SpecialIds s;
  s.bos = first({"<|bos|>", "<|begin_of_text|>", "<s>", "<|endoftext|>"});
  s.eos = first({"<|eos|>", "<|end_of_text|>", "</s>", "<|endoftext|>"});
  s.pad = first({"<|pad|>", "<pad>", "<|finetune_right_pad_id|>"});
  return s;
}

WeightDType parse_weight_dtype(std::string_view s, const std::string& where) {
  if (s == "f32" || s == "float32") return WeightDType::f32;
  if (s == "f16" || s == "float16") return WeightDType::f16;
  if (s == "bf16" || s == "bfloat16") return WeightDType::bf16;
  throw Error(ErrorKind::invalid_argument, where, fmt::format("unknown dtype '{}' (expected f32, f16 or bf16)", s));
}

std::string_view weight_dtype_name(WeightDType t) {
  switch (t) {
    case WeightDType::f32: return "f32";
    case WeightDType::f16: return "f16";
    case WeightDType::bf16: return "bf16";
  }
  return "?";
}

}  // namespace shog
