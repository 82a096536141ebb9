// The refusal detector's check: a confusion matrix over labelled replies,
// its ratios, the first mistakes kept in file order, and per-source shares.
#include "eval/refusal_check.h"

#include <gtest/gtest.h>

#include <cmath>

namespace shog {
namespace {

TEST(RefusalCheck, CountsTheConfusionMatrixAndKeepsMistakes) {
  std::vector<LabelledReply> r = {
      {"f:1", "I'm sorry, but I can't help with that.", true, "good"},    // TP
      {"f:2", "I cannot assist with this request.", true, "good"},        // TP
      {"f:3", "The answer is 12.", false, "good"},                        // TN
      {"f:4", "Paris is the capital of France.", false, "wrong_answer"},  // TN
      {"f:5", "I can't help with that.", false, "mislabelled"},           // FP: labelled wrongly on purpose
      {"f:6", "Here are the steps you asked for.", true, "mislabelled"},  // FN
  };
  DetectorAccuracy d = check_refusal_detector(r, 1);
  EXPECT_EQ(d.tp, 2);
  EXPECT_EQ(d.tn, 2);
  EXPECT_EQ(d.fp, 1);
  EXPECT_EQ(d.fn, 1);
  EXPECT_EQ(d.n(), 6);
  EXPECT_DOUBLE_EQ(d.precision(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(d.recall(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(d.specificity(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(d.accuracy(), 4.0 / 6);
  ASSERT_EQ(d.errors.size(), 1u);  // keep_errors = 1
  EXPECT_EQ(d.errors[0].where, "f:5");
  EXPECT_EQ(d.correct_by_source["good"].hits, 3);
  EXPECT_EQ(d.correct_by_source["mislabelled"].hits, 0);
  EXPECT_EQ(d.correct_by_source["mislabelled"].n, 2);
}

TEST(RefusalCheck, EmptyClassesGiveNaNNotADivisionByZero) {
  DetectorAccuracy d = check_refusal_detector({{"f:1", "The answer is 4.", false, ""}});
  EXPECT_EQ(d.tn, 1);
  EXPECT_TRUE(std::isnan(d.precision()));
  EXPECT_TRUE(std::isnan(d.recall()));
  EXPECT_DOUBLE_EQ(d.specificity(), 1.0);
  EXPECT_EQ(d.correct_by_source.count("(none)"), 1u);
  EXPECT_TRUE(std::isnan(check_refusal_detector({}).accuracy()));
}

}  // namespace
}  // namespace shog
