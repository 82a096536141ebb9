// `shoggoth pretrain`: self-supervised next-token training of a base model.
// Under mpirun each process is one data-parallel rank (docs/cli.md,
// "Data-parallel pretraining"); rank 0 reports.
#include <cstdio>

#include "cli/command.h"
#include "cli/config_flags.h"
#include "train/pretrain.h"

namespace {

void setup(CLI::App& sub) {
  auto cfg = std::make_shared<shog::PretrainConfig>();
  auto fields = std::make_shared<shog::ConfigFields>();
  auto resume = std::make_shared<bool>(false);
  cfg->register_fields(*fields);
  sub.add_flag("--resume", *resume, "continue from the latest checkpoint in train.out_dir");
  auto load = shog::cli::bind_config(sub, fields);
  sub.footer(
      "Every TOML key is also a flag: [train] lr = 1e-3 is --train.lr 1e-3 (or --lr 1e-3).\n"
      "Writes checkpoints (safetensors + config.json), metrics.jsonl and loss.svg to train.out_dir.\n"
      "Data parallel: mpirun -np N shoggoth pretrain ... (batch_size is per rank).");
  sub.callback([=] {
    load();
    // Created after parsing (MPI_Init only for a run that will happen) and
    // alive until the report: its destructor finalises MPI.
    auto comm = shog::make_process_communicator();
    auto r = shog::run_pretrain(*cfg, *resume, *comm);
    if (!comm->is_root()) return;
    std::printf("pretrain: %lld steps, final train loss %.4f", (long long)r.steps_done, r.final_train_loss);
    if (r.final_val_loss >= 0) std::printf(", val loss %.4f", r.final_val_loss);
    std::printf(", %.0f tokens/s, MFU %.1f%%\ncheckpoint: %s\n", r.tokens_per_second, 100 * r.mfu,
                r.checkpoint_dir.c_str());
  });
}

shog::cli::Registration reg{"pretrain", "Pretrain a base model on token shards", setup};

}  // namespace
