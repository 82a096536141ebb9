#include "align/rollout_reward.h"

#include <cmath>

#include <fmt/format.h>

#include "align/reward.h"
#include "core/error.h"
#include "data/synth/checker.h"

namespace shog {

void RolloutRewardSettings::register_fields(ConfigFields& f, const std::string& section) {
  f.add(section + ".reward", "reward: checker, reward_model or mix", &kind);
  f.add(section + ".reward_model", "reward model directory (reward_model, mix)", &reward_model);
  f.add(section + ".checker_weight", "weight of the checker reward in mix", &checker_weight);
  f.add(section + ".reward_model_weight", "weight of the reward-model score in mix", &reward_model_weight);
}

void RolloutRewardSettings::validate(const std::string& section) const {
  SHOG_CHECK(kind == "checker" || kind == "reward_model" || kind == "mix", ErrorKind::invalid_argument,
             section + ".reward", "must be checker, reward_model or mix");
  SHOG_CHECK(kind == "checker" || !reward_model.empty(), ErrorKind::invalid_argument, section + ".reward_model",
             "a reward model directory is needed");
}

RolloutRewarder::RolloutRewarder(const RolloutRewardSettings& s, const std::string& section,
                                 const std::vector<PromptRecord>& prompts, const std::string& data_path,
                                 RewardFunction custom)
    : s_(s), prompts_(prompts), custom_(std::move(custom)) {
  if (custom_) return;
  use_checker_ = s.kind != "reward_model", use_rm_ = s.kind != "checker";
  if (use_checker_)
    for (size_t i = 0; i < prompts.size(); ++i)
      SHOG_CHECK(prompts[i].meta.is_object() && prompts[i].meta.contains("checker"), ErrorKind::bad_input,
                 fmt::format("{}:{}", data_path, i + 1), "no \"checker\" object (needed for {}.reward = {})",
                 section, s.kind);
  if (use_rm_) rm_ = std::make_unique<RewardModel>(RewardModel::load(s.reward_model, DType::bf16));
}

RolloutRewarder::~RolloutRewarder() = default;

std::vector<ReplyScore> RolloutRewarder::score(const std::vector<Rollout>& rs) {
  std::vector<ReplyScore> out(rs.size());
  if (custom_) {
    for (size_t i = 0; i < rs.size(); ++i) out[i].score = custom_(prompts_[rs[i].prompt], rs[i].text);
    return out;
  }
  const bool mix = s_.kind == "mix";
  if (use_checker_)
    for (size_t i = 0; i < rs.size(); ++i) {
      auto c = synth::check_reply(prompts_[rs[i].prompt].meta["checker"], rs[i].text);
      out[i].correct = c.correct, out[i].refused = c.refused;
      out[i].score += (mix ? s_.checker_weight : 1.0) * c.reward;
    }
  if (use_rm_) {
    std::vector<Messages> convs;
    for (auto& r : rs) {
      Messages c = prompts_[r.prompt].prompt;
      c.push_back({ChatRole::assistant, r.text});
      convs.push_back(std::move(c));
    }
    auto sc = rm_->score(convs);
    // NaN: longer than the reward model's context; scored 0.
    for (size_t i = 0; i < rs.size(); ++i)
      out[i].score += (mix ? s_.reward_model_weight : 1.0) * (std::isnan(sc[i]) ? 0.0 : sc[i]);
  }
  return out;
}

}  // namespace shog
