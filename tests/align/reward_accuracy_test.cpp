// Pairwise accuracy overall and per group of pairs (`reward score --by`).
#include <gtest/gtest.h>

#include <cmath>

#include "align/reward.h"
#include "core/error.h"

using namespace shog;

namespace {

PreferencePair pair_with(nlohmann::json meta) {
  PreferencePair p;
  p.meta = std::move(meta);
  return p;
}

}  // namespace

TEST(RewardAccuracy, OverallCountsOnlyPairsWithBothSidesScored) {
  const double nan = std::nan("");
  const PairAccuracy a = pair_accuracy({2.0, 1.0, 0.0, 3.0, nan, 1.0, 1.0, 1.0});
  EXPECT_EQ(a.scored, 3);   // the NaN pair is left out
  EXPECT_EQ(a.correct, 1);  // a tie is not a win
  EXPECT_DOUBLE_EQ(a.value(), 1.0 / 3.0);
}

TEST(RewardAccuracy, PerGroupOfTheLinesFields) {
  const double nan = std::nan("");
  std::vector<PreferencePair> p = {
      pair_with({{"kind", "harmful"}, {"bad_type", "rude"}}),
      pair_with({{"kind", "benign"}, {"bad_type", "over_refusal"}}),
      pair_with({{"kind", "harmful"}, {"bad_type", "rude"}}),
      pair_with({{"kind", "harmful"}}),                        // no bad_type: "-"
      pair_with({{"kind", 3}, {"bad_type", "rude"}}),          // not a string: its JSON text
      pair_with({{"kind", "benign"}, {"bad_type", "over_refusal"}}),
  };
  const std::vector<double> s = {1, 0, 0, 1, 2, 1, 5, 4, 1, 0, nan, 0};
  const auto g = pair_accuracy_by(p, s, {"kind", "bad_type"});
  ASSERT_EQ(g.size(), 4u);
  EXPECT_EQ(g[0].first, "harmful / rude");
  EXPECT_EQ(g[0].second.scored, 2);
  EXPECT_EQ(g[0].second.correct, 2);
  EXPECT_EQ(g[1].first, "benign / over_refusal");
  EXPECT_EQ(g[1].second.scored, 1);  // its second pair is not scored
  EXPECT_EQ(g[1].second.correct, 0);
  EXPECT_EQ(g[2].first, "harmful / -");
  EXPECT_EQ(g[2].second.correct, 1);
  EXPECT_EQ(g[3].first, "3 / rude");
  // The groups add up to the overall figure.
  int64_t scored = 0, correct = 0;
  for (const auto& [k, a] : g) scored += a.scored, correct += a.correct;
  EXPECT_EQ(scored, pair_accuracy(s).scored);
  EXPECT_EQ(correct, pair_accuracy(s).correct);
  EXPECT_THROW(pair_accuracy_by(p, {1, 0}, {"kind"}), Error);  // scores for another list
}
