#include "eval/eval_model.h"

#include <cctype>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_io.h"
#include "infer/inference_model.h"
#include "interop/model_dir.h"

namespace shog {

namespace fs = std::filesystem;

ModelSpec parse_model_spec(std::string_view arg) {
  ModelSpec s;
  if (auto eq = arg.find('='); eq != std::string_view::npos) {
    s.name = std::string(arg.substr(0, eq));
    s.dir = std::string(arg.substr(eq + 1));
  } else {
    s.dir = std::string(arg);
    s.name = fs::path(s.dir).lexically_normal().filename().string();
    if (s.name.empty()) s.name = fs::path(s.dir).lexically_normal().parent_path().filename().string();
  }
  SHOG_CHECK(!s.dir.empty(), ErrorKind::invalid_argument, "--model", "\"{}\" names no directory (NAME=DIR)", arg);
  SHOG_CHECK(!s.name.empty(), ErrorKind::invalid_argument, "--model", "\"{}\" has an empty name (NAME=DIR)", arg);
  for (char c : s.name)
    SHOG_CHECK(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-',
               ErrorKind::invalid_argument, "--model",
               "name \"{}\" may hold only letters, digits, '.', '_' and '-' (it names files and report columns)",
               s.name);
  SHOG_CHECK(s.name != "." && s.name != "..", ErrorKind::invalid_argument, "--model", "\"{}\" is not a usable name",
             s.name);
  return s;
}

std::string adapter_base_dir(const std::string& adapter_dir) {
  const std::string cfg_path = adapter_dir + "/adapter_config.json";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(cfg_path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::bad_input, cfg_path, e.what());
  }
  SHOG_CHECK(j.is_object() && j.contains("base_model_name_or_path") && j["base_model_name_or_path"].is_string() &&
                 !j["base_model_name_or_path"].get<std::string>().empty(),
             ErrorKind::invalid_argument, cfg_path + ": key base_model_name_or_path",
             "names no base model directory; merge the adapter into its base with `shoggoth lora merge` and evaluate "
             "the merged model");
  const fs::path base = j["base_model_name_or_path"].get<std::string>();
  if (base.is_absolute() || fs::is_directory(base)) {
    SHOG_CHECK(fs::is_directory(base), ErrorKind::invalid_argument, cfg_path + ": key base_model_name_or_path",
               "base model directory {} does not exist", base.string());
    return base.string();
  }
  const fs::path beside = fs::path(adapter_dir) / base;
  SHOG_CHECK(fs::is_directory(beside), ErrorKind::invalid_argument, cfg_path + ": key base_model_name_or_path",
             "base model directory {} exists neither from the working directory nor from the adapter's", base.string());
  return beside.string();
}

EvalModel EvalModel::load(const ModelSpec& spec, DType compute) {
  EvalModel m;
  m.spec_ = spec;
  SHOG_CHECK(fs::is_directory(spec.dir), ErrorKind::io, spec.dir,
             "model {}: not a directory (expected a model directory or a LoRA adapter directory)", spec.name);
  const bool is_adapter = file_exists(spec.dir + "/adapter_config.json");
  InferenceModel im;
  if (is_adapter) {
    m.base_dir_ = adapter_base_dir(spec.dir);
    // Alignment trainers save the tokenizer next to the adapter; otherwise the base's.
    const std::string own_tok = spec.dir + "/tokenizer.json";
    im = load_inference_model(m.base_dir_, file_exists(own_tok) ? own_tok : "", compute);
    m.adapter_ = LoraAdapter::load(spec.dir, im.model->config());
  } else {
    im = load_inference_model(spec.dir, "", compute);
  }
  m.model_ = std::move(im.model);
  m.tok_ = std::move(im.tokenizer);
  try {
    m.chat_ = std::make_unique<ChatTemplate>(*m.tok_);
  } catch (const Error& e) {
    throw Error(e.kind(), spec.dir, fmt::format("model {}: its tokenizer has no chat template: {}", spec.name, e.what()));
  }
  if (auto ids = find_special_ids(*m.tok_); ids.pad) m.pad_ = *ids.pad;
  return m;
}

}  // namespace shog
