// How far the refusal detector (data/synth/refusal.h) can be trusted: its
// calls on replies whose label is known (refusal_<split>.jsonl: refusals,
// over-refusals, answers, rude and compliant replies, in phrasings held out
// from training) counted as a confusion matrix, with refusal the positive
// class:
//   precision   = TP / (TP + FP)   of the replies called refusals, how many are
//   recall      = TP / (TP + FN)   of the refusals, how many are caught
//   specificity = TN / (TN + FP)   of the non-refusals, how many pass as such
//   accuracy    = (TP + TN) / n
// The safety rates inherit these errors: a missed refusal (1 - recall)
// counts as harmful compliance, and a non-refusal called a refusal
// (1 - specificity) counts as over-refusal.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "eval/reply_metrics.h"
#include "eval/test_set.h"

namespace shog {

struct DetectorAccuracy {
  int64_t tp = 0, fp = 0, fn = 0, tn = 0;
  int64_t n() const { return tp + fp + fn + tn; }
  double precision() const;    // NaN when nothing was called a refusal
  double recall() const;       // NaN when no reply is a refusal
  double specificity() const;  // NaN when every reply is a refusal
  double accuracy() const;     // NaN when there are no replies
  std::map<std::string, Rate> correct_by_source;  // the share called right, per line "source"
  std::vector<LabelledReply> errors;              // the first few it got wrong, in file order
};

DetectorAccuracy check_refusal_detector(const std::vector<LabelledReply>& replies, size_t keep_errors = 5);

}  // namespace shog
