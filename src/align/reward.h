// Reward model (the first half of the cherry): the policy's body with a
// scalar head read at the last token of each conversation, trained on
// preference pairs with the Bradley-Terry loss (align/preference_loss.h).
// Written to a directory holding the body (a model directory, or a LoRA
// adapter over `base`), score.safetensors (the head) and reward.json.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "align/finetune_model.h"
#include "align/neftune.h"
#include "align/train_settings.h"
#include "data/records.h"
#include "model/linear_head.h"

namespace shog {

struct RewardConfig {
  FinetuneSettings model;
  AlignTrainSettings train;
  NeftuneSettings neftune;
  double margin = 0;  // subtracted from r_c - r_r; a pair's own "margin" field wins
  void register_fields(ConfigFields& f);
};

struct RewardResult {
  int64_t steps = 0, pairs = 0, skipped = 0;
  double final_loss = 0, val_loss = -1, val_accuracy = -1, seconds = 0;
};

RewardResult run_reward(const RewardConfig& cfg);

// A trained reward model for scoring (eval, PPO, `shoggoth reward score`).
// Pairwise accuracy of score_pairs() output: the chosen side scored higher,
// over the pairs with both sides scored.
struct PairAccuracy {
  int64_t correct = 0, scored = 0;
  double value() const { return scored > 0 ? double(correct) / double(scored) : 0.0; }
};
PairAccuracy pair_accuracy(const std::vector<double>& pair_scores);
// The same per group of pairs: the group of a pair is the values of `fields`
// in its line's other fields (PreferencePair::meta), joined by " / "; a field
// the line lacks counts as "-". Groups in the order of their first pair.
std::vector<std::pair<std::string, PairAccuracy>> pair_accuracy_by(const std::vector<PreferencePair>& pairs,
                                                                   const std::vector<double>& pair_scores,
                                                                   const std::vector<std::string>& fields);

class RewardModel {
 public:
  static RewardModel load(const std::string& dir, DType dt = DType::f32);
  // One score per conversation (the whole conversation, reply included);
  // NaN for one longer than seq_len (default: the model's context).
  std::vector<double> score(const std::vector<Messages>& conversations, int64_t seq_len = 0);
  // Both sides of each pair: out[2i] the chosen, out[2i+1] the rejected
  // conversation's score (NaN when too long).
  std::vector<double> score_pairs(const std::vector<PreferencePair>& pairs);
  const ChatTemplate& chat() const { return *chat_; }
  Transformer& model() { return *model_; }

 private:
  RewardModel() = default;
  std::unique_ptr<Transformer> model_;
  std::unique_ptr<LoraAdapter> lora_;
  std::unique_ptr<LinearHead> head_;
  std::unique_ptr<Tokenizer> tok_;
  std::unique_ptr<ChatTemplate> chat_;
  int32_t pad_ = 0;
};

}  // namespace shog
