#include "model/model_io.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_io.h"
#include "core/safetensors.h"

namespace shog {

std::vector<SafetensorsTensor> param_block_tensors(const ParamTable& t, const float* block, const std::string& prefix) {
  std::vector<SafetensorsTensor> out;
  for (auto& e : t.entries()) out.push_back({prefix + e.name, StDType::f32, e.shape, block + e.offset});
  return out;
}

void save_model_weights(const std::string& dir, const Transformer& model) {
  write_safetensors(dir + "/model.safetensors", param_block_tensors(model.table(), model.params(), ""),
                    {{"format", "pt"}, {"producer", "shoggoth"}});
  write_file_atomic(dir + "/config.json", model.config().to_hf_json().dump(2) + "\n");
}

ModelConfig load_model_config(const std::string& dir) {
  std::string path = dir + "/config.json";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::bad_input, path, fmt::format("not valid JSON: {}", e.what()));
  }
  return ModelConfig::from_hf_json(j, path);
}

void load_param_block(const SafetensorsFile& f, const ParamTable& t, float* block, const std::string& prefix) {
  for (auto& e : t.entries()) {
    std::string name = prefix + e.name;
    const auto& st = f.at(name);
    SHOG_CHECK(st.shape == e.shape, ErrorKind::bad_input, f.path(), "tensor '{}' has shape {}, the model expects {}",
               name, shape_str(st.shape), shape_str(e.shape));
    f.copy_f32(name, block + e.offset, e.numel);
  }
}

void load_model_weights(const std::string& dir, Transformer& model) {
  SafetensorsFile f(dir + "/model.safetensors");
  load_param_block(f, model.table(), model.params(), "");
  model.sync_compute_weights();
}

}  // namespace shog
