// Group relative policy optimisation: for each prompt, sample a group of
// replies with the batched inference engine, score them (the synthetic
// world's checkers, a reward model, or a weighted sum), and push up the
// replies that beat their group's mean, with PPO's clipped ratio and no
// value model. Loss variants differ in how token losses are averaged.
#pragma once
#include <cstdint>
#include <string>

#include "align/finetune_model.h"
#include "align/rollout_reward.h"
#include "align/train_settings.h"

namespace shog {

struct GrpoConfig {
  FinetuneSettings model;
  AlignTrainSettings train;  // data.train: prompt-only JSONL (rl_*.jsonl; a "checker" per line for checker rewards)
  int64_t group_size = 8, prompts_per_step = 8, max_new_tokens = 48, epochs_per_batch = 1;
  double temperature = 1.0, clip_eps = 0.2, clip_eps_high = 0;  // 0: clip_eps
  double beta = 0;                  // KL to the reference (off by default)
  std::string loss = "grpo";        // grpo | dr_grpo | dapo
  RolloutRewardSettings reward;     // grpo.reward (checker by default), reward_model, weights
  void register_fields(ConfigFields& f);
  // custom_reward: a RewardFunction replaces the [grpo] reward keys.
  void validate(bool custom_reward = false) const;
};

struct GrpoOptions {
  RewardFunction reward;  // set: scores every reply instead of grpo.reward (tests, toy rewards); no accuracy logged
};

struct GrpoResult {
  int64_t steps = 0, prompts = 0;
  double first_reward = 0, final_reward = 0;  // mean reward of the first and of the last 5 steps (start_and_end_means)
  double seconds = 0;
  double final_accuracy = 0;  // checker: share of correct replies in the last step
};

GrpoResult run_grpo(const GrpoConfig& cfg, const GrpoOptions& options = {});

}  // namespace shog
