// The moderator combines the detectors and applies a policy:
//
//   score(category) = max(rule hit ? 1 : 0, classifier probability)
//
// and a category triggers when its score reaches the policy's threshold for
// the direction; the verdict's action is the most severe triggered action
// (allow < flag < redact < refuse < block). Rules give exact, explainable
// hits (and spans to redact); the classifier generalises to text no list
// anticipates. Categories the classifier was not trained on get rules only.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "moderation/classifier.h"
#include "moderation/classifier_train.h"
#include "moderation/policy.h"

namespace shog {

struct ModerationScores {
  std::map<std::string, float> scores;  // every category of the policy set
  std::vector<RuleHit> hits;
};

struct ModerationDecision {
  ModerationAction action = ModerationAction::allow;
  std::vector<std::string> categories;  // triggered (action != allow), most severe first
  ModerationScores scores;
  std::string redacted;                 // action redact: the text with its redact-category hits replaced

  ModerationVerdict verdict(const Policy& p) const;
};

class Moderator {
 public:
  // `classifier` may be null (rules only).
  Moderator(std::shared_ptr<const PolicySet> policies, std::shared_ptr<ModerationClassifier> classifier);

  const PolicySet& policies() const { return *policies_; }
  bool has_classifier() const { return classifier_ != nullptr; }

  // Scores every category. Rule hits ending before byte `hits_from` are
  // dropped (a stream's window re-reads text that was judged already).
  ModerationScores score(std::string_view text, bool use_rules, bool use_classifier, size_t hits_from = 0) const;
  // The policy's verdict for already computed scores.
  ModerationDecision decide(const Policy& policy, Direction d, ModerationScores scores, std::string_view text) const;
  // score() + decide(); a policy that allows everything checks nothing.
  ModerationDecision moderate(const Policy& policy, Direction d, std::string_view text) const;

 private:
  std::shared_ptr<const PolicySet> policies_;
  std::shared_ptr<ModerationClassifier> classifier_;
  std::vector<int> class_index_;  // per category of the set: the classifier's output, or -1
};

// Scores [n, K] of every example in the dataset's category order (0 for a
// category the policy set does not know), from the chosen detectors: for
// measuring rules alone, the classifier alone (one text at a time, with
// windows, as a server scores) or both (evaluate_probabilities then gives
// the metrics).
std::vector<float> moderator_scores(const Moderator& m, const ModerationDataset& data, bool use_rules,
                                    bool use_classifier);

// `text` with each span replaced by `mark` (spans may overlap; merged).
std::string redact_spans(std::string_view text, std::vector<std::pair<uint32_t, uint32_t>> spans,
                         std::string_view mark);

}  // namespace shog
