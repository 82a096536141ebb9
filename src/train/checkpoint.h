// Checkpoints. One directory per saved step:
//
//   <out>/step_000200/model.safetensors     weights, Hugging Face Llama names
//                     config.json           HF LlamaConfig
//                     optimizer.safetensors AdamW moments (m.<name>, v.<name>)
//                     trainer_state.json    step, optimizer step count, data
//                                           position, compute dtype, ...
//   <out>/latest                            "step_000200"
//
// A checkpoint is built in a hidden temporary directory, every file fsynced,
// then renamed into place and only then named by `latest` (itself replaced
// atomically). A crash at any point leaves the previous checkpoint intact and
// `latest` pointing at a complete directory.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "model/model_io.h"
#include "model/transformer.h"
#include "train/adamw_optimizer.h"

namespace shog {

struct CheckpointExtras {
  nlohmann::json trainer_state;   // free-form, written as trainer_state.json
  std::string config_toml;        // the effective run config, as run.toml
};

// Returns the directory written.
std::string save_checkpoint(const std::string& out_dir, int64_t step, const Transformer& model,
                            const AdamWOptimizer& opt, const CheckpointExtras& extras);

// The directory `latest` names, or "" when there is none.
std::string latest_checkpoint(const std::string& out_dir);

// Loads weights and optimizer state; returns trainer_state.json.
nlohmann::json load_checkpoint(const std::string& dir, Transformer& model, AdamWOptimizer& opt);

}  // namespace shog
