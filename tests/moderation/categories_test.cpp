#include "moderation/categories.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace shog {
namespace {

TEST(Categories, ThirteenBuiltInsEachMappedToKnownOpenAINames) {
  const auto& b = builtin_categories();
  ASSERT_EQ(b.size(), 13u);
  EXPECT_EQ(b.front().id, "violent_crimes");
  EXPECT_EQ(b.back().id, "elections");
  const auto& names = openai_category_names();
  for (const auto& c : b) {
    EXPECT_TRUE(valid_category_id(c.id)) << c.id;
    for (const auto& n : c.openai) EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  }
}

TEST(Categories, OpenAIResultTakesTheMaximumOverMappedCategories) {
  CategorySet s;
  s.add_custom({"spam", "Spam", {"harassment"}}, "test");
  EXPECT_THROW(s.add_custom({"spam", "", {}}, "test"), Error);
  EXPECT_THROW(s.add_custom({"x", "", {"nonsense"}}, "test"), Error);
  auto r = openai_moderation_result(s, {{"violent_crimes", 0.2f}, {"indiscriminate_weapons", 0.9f}, {"spam", 0.7f}},
                                    {"indiscriminate_weapons"});
  EXPECT_TRUE(r["flagged"].get<bool>());
  EXPECT_EQ(r["categories"].size(), openai_category_names().size());
  EXPECT_NEAR(r["category_scores"]["violence"].get<double>(), 0.9, 1e-6);
  EXPECT_NEAR(r["category_scores"]["illicit/violent"].get<double>(), 0.9, 1e-6);
  EXPECT_NEAR(r["category_scores"]["harassment"].get<double>(), 0.7, 1e-6);
  EXPECT_TRUE(r["categories"]["violence"].get<bool>());
  EXPECT_FALSE(r["categories"]["hate"].get<bool>());
  EXPECT_FALSE(r["categories"]["harassment"].get<bool>());
  EXPECT_TRUE(r["shoggoth"]["categories"]["indiscriminate_weapons"].get<bool>());
  EXPECT_NEAR(r["shoggoth"]["category_scores"]["spam"].get<double>(), 0.7, 1e-6);
  EXPECT_FALSE(openai_moderation_result(s, {}, {})["flagged"].get<bool>());
}

}  // namespace
}  // namespace shog
