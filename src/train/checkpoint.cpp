#include "train/checkpoint.h"

#include <filesystem>

#include "core/error.h"
#include "core/file_io.h"
#include "core/safetensors.h"
#include "model/model_io.h"

namespace fs = std::filesystem;

namespace shog {

std::string latest_checkpoint(const std::string& out_dir) {
  std::string p = out_dir + "/latest";
  if (!file_exists(p)) return "";
  std::string name = read_file(p);
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  SHOG_CHECK(!name.empty() && name.find('/') == std::string::npos, ErrorKind::bad_input, p,
             "does not name a checkpoint directory");
  std::string dir = out_dir + "/" + name;
  SHOG_CHECK(fs::is_directory(dir), ErrorKind::bad_input, p, "names '{}', which does not exist", dir);
  return dir;
}

std::string save_checkpoint(const std::string& out_dir, int64_t step, const Transformer& model,
                            const AdamWOptimizer& opt, const CheckpointExtras& extras) {
  make_dirs(out_dir);
  std::string name = fmt::format("step_{:06d}", step);
  std::string final_dir = out_dir + "/" + name, tmp_dir = out_dir + "/." + name + ".tmp";
  std::error_code ec;
  fs::remove_all(tmp_dir, ec);
  make_dirs(tmp_dir);

  save_model_weights(tmp_dir, model);
  auto& t = model.table();
  auto m = param_block_tensors(t, opt.m().data(), "m.");
  auto v = param_block_tensors(t, opt.v().data(), "v.");
  m.insert(m.end(), v.begin(), v.end());
  write_safetensors(tmp_dir + "/optimizer.safetensors", m, {{"adamw_step", std::to_string(opt.steps_taken())}});
  nlohmann::json state = extras.trainer_state;
  state["step"] = step;
  state["optimizer_steps"] = opt.steps_taken();
  write_file_atomic(tmp_dir + "/trainer_state.json", state.dump(2) + "\n");
  if (!extras.config_toml.empty()) write_file_atomic(tmp_dir + "/run.toml", extras.config_toml);
  fsync_dir(tmp_dir);

  fs::remove_all(final_dir, ec);  // re-saving the same step replaces it
  fs::rename(tmp_dir, final_dir, ec);
  SHOG_CHECK(!ec, ErrorKind::io, final_dir, "cannot move checkpoint into place: {}", ec.message());
  fsync_dir(out_dir);
  write_file_atomic(out_dir + "/latest", name + "\n");
  return final_dir;
}

nlohmann::json load_checkpoint(const std::string& dir, Transformer& model, AdamWOptimizer& opt) {
  ModelConfig cfg = load_model_config(dir);
  SHOG_CHECK(cfg.to_hf_json() == model.config().to_hf_json(), ErrorKind::invalid_argument, dir + "/config.json",
             "the checkpoint's model shape differs from the configured model");
  load_model_weights(dir, model);
  SafetensorsFile f(dir + "/optimizer.safetensors");
  load_param_block(f, model.table(), opt.m().data(), "m.");
  load_param_block(f, model.table(), opt.v().data(), "v.");
  std::string sp = dir + "/trainer_state.json";
  nlohmann::json state;
  try {
    state = nlohmann::json::parse(read_file(sp));
    opt.set_steps_taken(state.at("optimizer_steps").get<int64_t>());
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::bad_input, sp, fmt::format("invalid trainer state: {}", e.what()));
  }
  return state;
}

}  // namespace shog
