#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "train/lr_schedule.h"

using namespace shog;

TEST(LrSchedule, WarmupThenCosineToMinimum) {
  LrSchedule s{LrScheduleKind::cosine, 1.0, 10, 110, 0.1, 0.2};
  EXPECT_DOUBLE_EQ(s.at(0), 0.1);
  EXPECT_DOUBLE_EQ(s.at(9), 1.0);
  EXPECT_NEAR(s.at(10), 1.0, 1e-12);
  EXPECT_NEAR(s.at(60), 0.55, 1e-12);  // halfway: (1 + 0.1) / 2
  EXPECT_NEAR(s.at(110), 0.1, 1e-12);
  for (int i = 11; i < 110; ++i) EXPECT_LT(s.at(i), s.at(i - 1));
}

TEST(LrSchedule, WarmupStableDecay) {
  LrSchedule s{LrScheduleKind::wsd, 2.0, 0, 100, 0.0, 0.25};
  EXPECT_DOUBLE_EQ(s.at(10), 2.0);
  EXPECT_DOUBLE_EQ(s.at(75), 2.0);
  EXPECT_NEAR(s.at(87), 2.0 * (1 - 12.0 / 25.0), 1e-9);
  EXPECT_NEAR(s.at(100), 0.0, 1e-12);
}

TEST(LrSchedule, ParseRejectsUnknown) {
  EXPECT_EQ(parse_lr_schedule("wsd", "k"), LrScheduleKind::wsd);
  EXPECT_THROW(parse_lr_schedule("linear", "train.schedule"), Error);
}
