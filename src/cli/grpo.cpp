// `shoggoth grpo`: group relative policy optimisation on prompt-only JSONL.
#include <cstdio>

#include "align/grpo.h"
#include "cli/command.h"
#include "cli/config_flags.h"
#include "core/file_io.h"

namespace {

void setup(CLI::App& sub) {
  auto cfg = std::make_shared<shog::GrpoConfig>();
  auto fields = std::make_shared<shog::ConfigFields>();
  cfg->register_fields(*fields);
  auto load = shog::cli::bind_config(sub, fields);
  sub.footer(
      "Data: prompt-only JSONL; with grpo.reward = checker each line needs the synthetic world's \"checker\"\n"
      "object (rl_*.jsonl from `shoggoth data synth`). Rollouts run on the batched inference engine.\n"
      "Logs reward, reward_std, accuracy, refusal_rate, clip_fraction, kl (beta > 0), reply length.");
  sub.callback([=] {
    std::string toml = load();
    auto r = shog::run_grpo(*cfg);
    shog::write_file_atomic(cfg->train.out_dir + "/run.toml", toml);
    std::printf("grpo: %lld steps, mean reward %.3f -> %.3f (first and last 5 steps; last step accuracy %.3f), "
                "%.1fs\nmodel: %s\n",
                (long long)r.steps, r.first_reward, r.final_reward, r.final_accuracy, r.seconds,
                cfg->train.out_dir.c_str());
  });
}

shog::cli::Registration reg{"grpo", "Group relative policy optimisation (grpo, dr_grpo, dapo losses)", setup};

}  // namespace
