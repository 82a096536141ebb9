// `shoggoth sft`: supervised fine-tuning on chat conversations (full or LoRA).
#include <cstdio>

#include "align/sft.h"
#include "cli/command.h"
#include "cli/config_flags.h"
#include "core/file_io.h"

namespace {

void setup(CLI::App& sub) {
  auto cfg = std::make_shared<shog::SftConfig>();
  auto fields = std::make_shared<shog::ConfigFields>();
  cfg->register_fields(*fields);
  auto load = shog::cli::bind_config(sub, fields);
  sub.footer(
      "Data: JSONL conversations ({\"messages\": [...]}) or prompt/completion lines. Loss falls on assistant\n"
      "tokens only; samples are packed into rows of train.seq_len with no attention across them.\n"
      "Writes the model (or, with --lora_rank > 0, a PEFT adapter), metrics.jsonl, loss.svg and run.toml\n"
      "to train.out_dir.");
  sub.callback([=] {
    std::string toml = load();
    auto r = shog::run_sft(*cfg);
    shog::write_file_atomic(cfg->train.out_dir + "/run.toml", toml);
    std::printf("sft: %lld steps over %lld conversations (%lld skipped), final loss %.4f", (long long)r.steps,
                (long long)r.samples, (long long)r.skipped, r.final_loss);
    if (r.val_loss >= 0) std::printf(", validation loss %.4f", r.val_loss);
    std::printf(", %.1fs, %.0f tokens/s\nmodel: %s\n", r.seconds, r.tokens_per_s, cfg->train.out_dir.c_str());
  });
}

shog::cli::Registration reg{"sft", "Supervised fine-tuning on chat conversations (full or LoRA)", setup};

}  // namespace
