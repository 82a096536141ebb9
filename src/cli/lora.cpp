// `shoggoth lora merge`: a LoRA adapter (PEFT format, model/lora.h) folded
// into its base model, W += (alpha / r) B A for every adapted matrix, written
// as a plain model directory that every other command loads.
//
//   shoggoth lora merge --model runs/base/step_001000 --adapter runs/sft/adapter --out runs/sft/merged
#include <cstdio>

#include "cli/command.h"
#include "interop/model_dir.h"
#include "model/lora.h"

namespace {

void setup(CLI::App& app) {
  app.require_subcommand(1);
  static std::string model, adapter, out;
  auto* merge = app.add_subcommand("merge", "Fold a LoRA adapter into its base model's weights");
  merge->add_option("--model", model, "base model directory (model.safetensors, config.json, tokenizer.json)")
      ->required();
  merge->add_option("--adapter", adapter, "adapter directory (adapter_config.json, adapter_model.safetensors)")
      ->required();
  merge->add_option("--out", out, "output model directory (created)")->required();
  merge->callback([] {
    shog::ModelDir m = shog::load_model_dir(model);
    shog::LoraAdapter a = shog::LoraAdapter::load(adapter, m.config);
    a.merge_into(shog::ParamTable(m.config), m.params.data());
    shog::save_model_dir(out, m);
    const auto& c = a.config();
    std::printf("lora merge: %s + %s -> %s (rank %lld, alpha %g, %zu target modules x %lld layers)\n", model.c_str(),
                adapter.c_str(), out.c_str(), (long long)c.rank, double(c.alpha), c.targets.size(),
                (long long)m.config.n_layer);
  });
}

shog::cli::Registration reg{"lora", "LoRA adapters: merge one into its base model", setup};

}  // namespace
