// `shoggoth ppo`: PPO with a KL-shaped reward (InstructGPT) on prompt-only JSONL.
#include <cstdio>

#include "align/ppo.h"
#include "cli/command.h"
#include "cli/config_flags.h"
#include "core/file_io.h"

namespace {

void setup(CLI::App& sub) {
  auto cfg = std::make_shared<shog::PpoConfig>();
  auto fields = std::make_shared<shog::ConfigFields>();
  cfg->register_fields(*fields);
  auto load = shog::cli::bind_config(sub, fields);
  sub.footer(
      "Data: prompt-only JSONL (rl_*.jsonl from `shoggoth data synth`; with ppo.reward = checker or mix each\n"
      "line needs its \"checker\" object). Rewards: the reward model's score at the reply's end, minus\n"
      "kl_coef x (log pi - log pi_ref) at every token; values from a head on the policy or a separate model.\n"
      "Logs score, reward, kl, kl_coef, entropy, clip_fraction, value_loss, explained_variance, generate_s,\n"
      "train_s (metrics.jsonl, ppo.svg); saves the policy and value_head.safetensors into train.out_dir.");
  sub.callback([=] {
    std::string toml = load();
    auto r = shog::run_ppo(*cfg);
    shog::write_file_atomic(cfg->train.out_dir + "/run.toml", toml);
    std::printf(
        "ppo: %lld steps, mean score %.3f -> %.3f (first and last 5 steps), KL %.3f (kl_coef %.4f), %.1fs "
        "(generate %.1fs, score %.1fs, train %.1fs)\nmodel: %s\n",
        (long long)r.steps, r.first_score, r.final_score, r.final_kl, r.kl_coef, r.seconds, r.generate_seconds,
        r.score_seconds, r.train_seconds, cfg->train.out_dir.c_str());
  });
}

shog::cli::Registration reg{"ppo", "PPO against a reward model with a KL penalty (the InstructGPT recipe)", setup};

}  // namespace
