// The score of a sampled reply, shared by the RL trainers: the synthetic
// world's checker for its prompt (src/data/synth/checker.h), a trained
// reward model (align/reward.h), a weighted sum of both, or a function the
// caller supplies (tests: toy rewards).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "align/rollouts.h"
#include "data/records.h"
#include "train/config_fields.h"

namespace shog {

class RewardModel;

// <section>.reward, .reward_model, .checker_weight, .reward_model_weight.
struct RolloutRewardSettings {
  RolloutRewardSettings() = default;
  explicit RolloutRewardSettings(std::string default_kind) : kind(std::move(default_kind)) {}
  std::string kind = "checker";  // checker | reward_model | mix
  std::string reward_model;      // directory, for reward_model and mix
  double checker_weight = 1, reward_model_weight = 1;
  void register_fields(ConfigFields& f, const std::string& section);
  void validate(const std::string& section) const;
};

// A reply's score from the prompt's record and the reply's text.
using RewardFunction = std::function<double(const PromptRecord&, const std::string& reply)>;

struct ReplyScore {
  double score = 0;
  bool correct = false, refused = false;  // the checker's verdict (checker, mix)
};

class RolloutRewarder {
 public:
  // Checks that every prompt carries a "checker" when one is used (naming
  // `data_path`:line) and loads the reward model. With `custom` set, the
  // settings are ignored and custom scores every reply.
  RolloutRewarder(const RolloutRewardSettings& s, const std::string& section, const std::vector<PromptRecord>& prompts,
                  const std::string& data_path, RewardFunction custom = {});
  ~RolloutRewarder();
  std::vector<ReplyScore> score(const std::vector<Rollout>& rs);
  bool uses_checker() const { return use_checker_; }

 private:
  RolloutRewardSettings s_;
  const std::vector<PromptRecord>& prompts_;
  RewardFunction custom_;
  bool use_checker_ = false, use_rm_ = false;
  std::unique_ptr<RewardModel> rm_;
};

}  // namespace shog
