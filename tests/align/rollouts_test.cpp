// Rollout bookkeeping that does not need a model: how a run's reward at its
// start and end is summarised, and the prompt cycle's passes.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "align/rollouts.h"

namespace shog {
namespace {

TEST(StartAndEndMeans, AverageTheFirstAndLastFiveSteps) {
  std::vector<double> r(30);
  for (size_t i = 0; i < r.size(); ++i) r[i] = double(i);
  const StartEnd t = start_and_end_means(r);
  EXPECT_DOUBLE_EQ(t.start, (0 + 1 + 2 + 3 + 4) / 5.0);
  EXPECT_DOUBLE_EQ(t.end, (25 + 26 + 27 + 28 + 29) / 5.0);
}

TEST(StartAndEndMeans, ShortRunsUseEveryStepAndEmptyGivesZero) {
  const std::vector<double> r = {1.0, 3.0};
  const StartEnd t = start_and_end_means(r);
  EXPECT_DOUBLE_EQ(t.start, 2.0);
  EXPECT_DOUBLE_EQ(t.end, 2.0);
  const StartEnd one = start_and_end_means(r, 1);
  EXPECT_DOUBLE_EQ(one.start, 1.0);
  EXPECT_DOUBLE_EQ(one.end, 3.0);
  const StartEnd none = start_and_end_means({});
  EXPECT_EQ(none.start, 0.0);
  EXPECT_EQ(none.end, 0.0);
}

TEST(PromptCycle, EveryPassVisitsEveryPromptOnce) {
  PromptCycle c(7, 3);
  for (int pass = 0; pass < 3; ++pass) {
    std::vector<size_t> seen = c.next(7);
    std::sort(seen.begin(), seen.end());
    for (size_t i = 0; i < 7; ++i) EXPECT_EQ(seen[i], i) << "pass " << pass;
  }
}

}  // namespace
}  // namespace shog
