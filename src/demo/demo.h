// `shoggoth demo`: the whole cake at small scale in one run directory.
//   knowledge text -> tokenizer -> shards -> pretrain (the base model, the "shoggoth")
//   -> synthetic world -> SFT -> reward model -> DPO -> PPO [-> GRPO]
//   -> evaluation of every stage side by side -> fine-tune erosion
//   -> summary -> serving (base for research, aligned assistant, kids).
// Every stage's settings come from a recipe directory of TOML files, one
// per trainer, in the trainers' own formats (configs/demo/); the demo fills
// in the paths (what each stage starts from and where it writes). Stages
// resume (stage_runner.h). docs/demo.md describes the run directory.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace shog::demo {

struct DemoOptions {
  std::string out_dir = "runs/demo";
  std::vector<std::string> corpus = {"data/corpus"};  // text files or directories of *.txt
  std::string recipe = "configs/demo";                // pretrain.toml, sft.toml, reward.toml, ...
  std::string policies = "configs/moderation.toml";   // moderation policies for the served deployments
  std::string aligned = "ppo";                        // the stage whose model is "the aligned model"
  bool grpo = false;                                  // also run GRPO (recipe grpo.toml)
  bool fresh = false;                                 // delete the run directory's earlier results first
  int64_t threads = 0;                                // 0: all cores
  uint64_t seed = 1;
  double val_fraction = 0.01;                         // share of the corpus held out for validation loss
  int knowledge_passes = 4;                           // the world's knowledge text in the corpus (0: left out)
  std::array<size_t, 3> synth_prompts{8000, 500, 500};  // train, val, test
  int64_t erosion_rounds = 3;                         // LoRA rounds of erosion.toml's steps each
  int64_t eval_max_tokens = 64;
  bool progress = true;
};

struct DemoResult {
  std::string summary_md;     // the summary table (also in <out>/summary.md)
  std::string platform_toml;  // <out>/platform.toml, for `shoggoth serve`
  std::string keys_file;      // <out>/api_keys.txt: a research and a public key
  double seconds = 0;
};

// Throws shog::Error naming the stage, file or key on bad input.
DemoResult run_demo(const DemoOptions& opt);

}  // namespace shog::demo
