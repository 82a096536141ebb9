// PPO with a KL-shaped reward, the InstructGPT recipe (Ouyang et al. 2022,
// after Ziegler et al. 2019; Stiennon et al. 2020): sample replies from the
// policy, score them with a frozen reward model (or the synthetic world's
// checkers, or both), penalise each token's divergence from the frozen
// reference, estimate advantages with GAE against a learned value function,
// and take several epochs of clipped policy and clipped value updates on
// minibatches of each batch of rollouts. The KL coefficient is fixed or
// adapted towards a target KL.
#pragma once
#include <cstdint>
#include <string>

#include "align/finetune_model.h"
#include "align/rollout_reward.h"
#include "align/train_settings.h"

namespace shog {

struct PpoConfig {
  FinetuneSettings model;
  AlignTrainSettings train;  // data.train: prompt-only JSONL (rl_*.jsonl; a "checker" per line for checker rewards)
  int64_t rollouts_per_step = 16;  // prompts per step, one reply each
  int64_t max_new_tokens = 48;
  double temperature = 1.0;
  int64_t ppo_epochs = 4, minibatches = 4;  // passes over each batch of rollouts; optimizer steps per pass
  double clip_eps = 0.2, value_clip_eps = 0.2, vf_coef = 0.1;
  double value_lr = 0;  // learning rate of the value head (and a separate value body); 0: train.lr
  double gamma = 1.0, lam = 0.95;
  double init_kl_coef = 0.2, target_kl = 6.0, kl_horizon = 10000;  // target 0: fixed coefficient
  bool whiten_advantages = true;
  std::string truncation = "add";  // add | replace: what truncation_penalty does to a cut-off reply's score
  double truncation_penalty = 0;
  std::string value_model = "head";  // head | separate
  std::string value_init;            // separate: directory to start the value model from
  RolloutRewardSettings reward{"reward_model"};
  void register_fields(ConfigFields& f);
  // custom_reward: a RewardFunction replaces the [ppo] reward keys.
  void validate(bool custom_reward = false) const;
};

struct PpoOptions {
  RewardFunction reward;  // set: scores every reply instead of ppo.reward (tests, toy rewards)
};

struct PpoResult {
  int64_t steps = 0, prompts = 0;
  double first_score = 0, final_score = 0;  // mean score of the first and of the last 5 steps' rollouts
  double final_kl = 0;                      // KL per reply to the reference in the last step's rollouts
  double kl_coef = 0;                       // the coefficient after the last update
  double seconds = 0, generate_seconds = 0, score_seconds = 0, train_seconds = 0;
};

PpoResult run_ppo(const PpoConfig& cfg, const PpoOptions& options = {});

}  // namespace shog
