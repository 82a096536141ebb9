#include "interop/hf_model.h"

#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/gguf.h"
#include "core/safetensors.h"
#include "interop/hf_tokenizer.h"
#include "model/model_io.h"

namespace shog {

void export_hf(const ModelDir& m, const std::string& out_dir, WeightDType dtype) {
  // Checked before anything is written: transformers would load such a model
  // as a plain Llama, skip the gain with a warning, and compute other logits.
  SHOG_CHECK(!m.config.smear, ErrorKind::invalid_argument, out_dir,
             "the model has a previous-token smear (shog_smear in config.json), which transformers' "
             "LlamaForCausalLM does not have; it cannot be exported as a Hugging Face Llama");
  make_dirs(out_dir);
  const ParamTable table(m.config);
  std::vector<std::vector<uint16_t>> halves;  // converted copies, alive until written
  halves.reserve(table.entries().size());
  std::vector<SafetensorsTensor> tensors;
  for (const auto& e : table.entries()) {
    const float* src = m.params.data() + e.offset;
    if (dtype == WeightDType::f32) {
      tensors.push_back({e.name, StDType::f32, e.shape, src});
      continue;
    }
    auto& h = halves.emplace_back(size_t(e.numel));
    if (dtype == WeightDType::bf16) {
      convert_f32_to_bf16(src, reinterpret_cast<bf16*>(h.data()), h.size());
    } else {
      for (size_t i = 0; i < h.size(); ++i) h[i] = f32_to_f16(src[i]);
    }
    tensors.push_back({e.name, dtype == WeightDType::bf16 ? StDType::bf16 : StDType::f16, e.shape, h.data()});
  }
  write_safetensors(out_dir + "/model.safetensors", tensors, {{"format", "pt"}, {"producer", "shoggoth"}});

  nlohmann::ordered_json cfg = nlohmann::ordered_json(m.config.to_hf_json());
  cfg["torch_dtype"] = dtype == WeightDType::f32 ? "float32" : dtype == WeightDType::bf16 ? "bfloat16" : "float16";
  nlohmann::ordered_json gen = {{"_from_model_config", true}};
  if (m.tokenizer) {
    const SpecialIds ids = find_special_ids(*m.tokenizer);
    if (ids.bos) cfg["bos_token_id"] = gen["bos_token_id"] = *ids.bos;
    if (ids.eos) cfg["eos_token_id"] = gen["eos_token_id"] = *ids.eos;
    if (ids.pad) cfg["pad_token_id"] = gen["pad_token_id"] = *ids.pad;
    write_file_atomic(out_dir + "/tokenizer.json", hf_tokenizer_json(*m.tokenizer).dump(2) + "\n");
    write_file_atomic(out_dir + "/tokenizer_config.json",
                      hf_tokenizer_config(*m.tokenizer, m.config.max_seq).dump(2) + "\n");
  }
  write_file_atomic(out_dir + "/config.json", cfg.dump(2) + "\n");
  write_file_atomic(out_dir + "/generation_config.json", gen.dump(2) + "\n");
}

ModelDir import_hf(const std::string& dir) {
  const std::string cfg_path = dir + "/config.json";
  SHOG_CHECK(file_exists(cfg_path), ErrorKind::invalid_argument, dir, "not a model directory (no config.json)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(cfg_path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::bad_input, cfg_path, fmt::format("not valid JSON: {}", e.what()));
  }
  ModelDir m;
  m.config = ModelConfig::from_hf_json(j, cfg_path);
  // What from_hf_json does not model: refuse rather than run a different network.
  auto refuse_if = [&](bool bad, const char* key, const std::string& why) {
    SHOG_CHECK(!bad, ErrorKind::unsupported, cfg_path + ": " + key, "{}", why);
  };
  if (j.contains("model_type"))
    refuse_if(j["model_type"] != "llama", "model_type", "only llama models can be imported");
  refuse_if(j.value("attention_bias", false) == true, "attention_bias", "attention biases are not supported");
  refuse_if(j.value("mlp_bias", false) == true, "mlp_bias", "MLP biases are not supported");
  refuse_if(j.contains("rope_scaling") && !j["rope_scaling"].is_null(), "rope_scaling", "rope scaling is not supported");
  refuse_if(j.contains("hidden_act") && j["hidden_act"] != "silu", "hidden_act", "only silu (SwiGLU) is supported");
  refuse_if(j.contains("head_dim") && j["head_dim"].is_number_integer() &&
                j["head_dim"].get<int64_t>() != m.config.head_dim(),
            "head_dim", "head_dim must equal hidden_size / num_attention_heads");

  // One file, or shards listed in the index's weight_map (name -> file).
  std::map<std::string, std::unique_ptr<SafetensorsFile>> files;
  std::map<std::string, SafetensorsFile*> owner;
  const std::string index_path = dir + "/model.safetensors.index.json";
  if (file_exists(dir + "/model.safetensors")) {
    files["model.safetensors"] = std::make_unique<SafetensorsFile>(dir + "/model.safetensors");
  } else {
    SHOG_CHECK(file_exists(index_path), ErrorKind::invalid_argument, dir,
               "no model.safetensors or model.safetensors.index.json");
    nlohmann::json idx;
    try {
      idx = nlohmann::json::parse(read_file(index_path));
    } catch (const nlohmann::json::exception& e) {
      throw Error(ErrorKind::bad_input, index_path, fmt::format("not valid JSON: {}", e.what()));
    }
    SHOG_CHECK(idx.is_object() && idx.contains("weight_map") && idx["weight_map"].is_object(), ErrorKind::bad_input,
               index_path + ": weight_map", "missing or not an object");
    for (auto& [name, file] : idx["weight_map"].items()) {
      SHOG_CHECK(file.is_string(), ErrorKind::bad_input, index_path + ": weight_map." + name, "must be a file name");
      const std::string fn = file.get<std::string>();
      SHOG_CHECK(fn.find('/') == std::string::npos, ErrorKind::bad_input, index_path + ": weight_map." + name,
                 "shard name {:?} must be a plain file name", fn);
      auto& f = files[fn];
      if (!f) f = std::make_unique<SafetensorsFile>(dir + "/" + fn);
      owner[name] = f.get();
    }
  }
  auto file_of = [&](const std::string& name) -> const SafetensorsFile& {
    if (files.size() == 1 && owner.empty()) return *files.begin()->second;
    auto it = owner.find(name);
    SHOG_CHECK(it != owner.end(), ErrorKind::bad_input, index_path + ": weight_map", "no entry for tensor '{}'", name);
    return *it->second;
  };
  const ParamTable table(m.config);
  m.params.assign(size_t(table.total()), 0.0f);
  for (const auto& e : table.entries()) {
    const SafetensorsFile& f = file_of(e.name);
    const auto& st = f.at(e.name);
    SHOG_CHECK(st.shape == e.shape, ErrorKind::bad_input, f.path() + ": tensor '" + e.name + "'",
               "shape {}, config.json needs {}", shape_str(st.shape), shape_str(e.shape));
    f.copy_f32(e.name, m.params.data() + e.offset, e.numel);
  }
  if (file_exists(dir + "/tokenizer.json")) m.tokenizer = Tokenizer::load(dir + "/tokenizer.json");
  return m;
}

}  // namespace shog
