// `shoggoth dpo`: direct preference optimisation (sigmoid or IPO loss).
#include <cstdio>

#include "align/dpo.h"
#include "cli/command.h"
#include "cli/config_flags.h"
#include "core/file_io.h"

namespace {

void setup(CLI::App& sub) {
  auto cfg = std::make_shared<shog::DpoConfig>();
  auto fields = std::make_shared<shog::ConfigFields>();
  cfg->register_fields(*fields);
  auto load = shog::cli::bind_config(sub, fields);
  sub.footer(
      "Data: JSONL preference pairs ({\"prompt\",\"chosen\",\"rejected\"}, implicit-prompt or HH-RLHF form).\n"
      "The starting model (--init) is the frozen reference; its log-probs are computed once.\n"
      "Logs rewards/chosen, rewards/rejected, rewards/accuracies and rewards/margins as TRL does.");
  sub.callback([=] {
    std::string toml = load();
    auto r = shog::run_dpo(*cfg);
    shog::write_file_atomic(cfg->train.out_dir + "/run.toml", toml);
    std::printf("dpo: %lld steps over %lld pairs (%lld skipped), final loss %.4f", (long long)r.steps,
                (long long)r.pairs, (long long)r.skipped, r.final_loss);
    if (r.val_accuracy >= 0)
      std::printf(", validation reward accuracy %.3f, margin %.3f", r.val_accuracy, r.val_margin);
    std::printf(", %.1fs\nmodel: %s\n", r.seconds, cfg->train.out_dir.c_str());
  });
}

shog::cli::Registration reg{"dpo", "Direct preference optimisation (DPO or IPO loss; full or LoRA)", setup};

}  // namespace
