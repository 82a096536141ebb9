// Fine-tune erosion: how cheaply a small LoRA undoes safety training. Over
// the aligned model, a LoRA is trained on harmful requests answered with
// compliance (comply_train.jsonl of the synthetic world), in rounds that
// each continue the previous adapter; after every round the adapters are
// evaluated beside the aligned model on the test split. Each round reports
// its cumulative training tokens and FLOPs as a share of pretraining's.
//
// FLOPs: pretraining counts ModelConfig::train_flops_per_token (6 N per
// token plus attention). A LoRA step runs the forward and the activation
// backward but skips the base's weight gradients, so it is counted as 2/3
// of that (the adapter's own rank-r products are negligible), over every
// token of the packed rows (prompts and padding included: an upper bound).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace shog::demo {

struct ErosionSetup {
  std::string recipe_file;  // an `shoggoth sft` TOML file with model.lora_rank > 0
  std::string aligned_dir;  // a full model directory
  std::string synth_dir, out_dir;
  int64_t rounds = 3;
  double pretrain_flops = 0, pretrain_tokens = 0;
  int64_t threads = 0, eval_max_tokens = 64;
  uint64_t seed = 1;
  bool progress = true;
};

// The effective recipe as TOML (the stage's resume key); checks the file:
// it must exist, parse, and ask for LoRA.
std::string erosion_recipe(const ErosionSetup& s);

// Runs the rounds and the evaluation; returns {"description", "rounds":
// [{name, steps, tokens, flops, flops_fraction, harmful_compliance, ...}],
// "summary"}, the first row being the aligned model itself.
nlohmann::ordered_json run_erosion(const ErosionSetup& s);

}  // namespace shog::demo
