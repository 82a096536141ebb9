#include "moderation/normalizer.h"

#include <gtest/gtest.h>

namespace shog {
namespace {

bool matches(std::string_view text, std::string_view phrase) {
  return !find_phrase(normalize_text(text), compile_phrase(phrase)).empty();
}

TEST(Normalizer, FoldsCaseWidthAccentsAndLookalikes) {
  EXPECT_EQ(fold_text("BoMb"), "bomb");
  EXPECT_EQ(fold_text("\xEF\xBC\xA2\xEF\xBC\xAF\xEF\xBC\xAD\xEF\xBC\xA2"), "bomb");       // fullwidth ＢＯＭＢ
  EXPECT_EQ(fold_text("b\xD0\xBEmb"), "bomb");                                            // Cyrillic о
  EXPECT_EQ(fold_text("\xCE\x91\xCE\x92"), "ab");                                         // Greek Α Β
  EXPECT_EQ(fold_text("\xF0\x9D\x90\x9B\xF0\x9D\x90\xA8\xF0\x9D\x90\xA6\xF0\x9D\x90\x9B"), "bomb");  // math bold
  EXPECT_EQ(fold_text("\xE2\x93\x91\xE2\x93\x9E\xE2\x93\x9C\xE2\x93\x91"), "bomb");       // circled ⓑⓞⓜⓑ
  EXPECT_EQ(fold_text("b\xC3\xB3mb"), "bomb");                                            // precomposed ó
  EXPECT_EQ(fold_text("bo\xCC\x81mb"), "bomb");                                           // o + combining acute
  EXPECT_EQ(fold_text("bo\xE2\x80\x8Bmb"), "bomb");                                       // zero-width space
  EXPECT_EQ(fold_text("\xEF\xAC\x81re"), "fire");                                         // ligature ﬁ
  EXPECT_EQ(fold_text("a\xC2\xA0" "b"), "a b");                                            // no-break space
  EXPECT_EQ(fold_text("\xE4\xBD\xA0\xE5\xA5\xBD"), "\xE4\xBD\xA0\xE5\xA5\xBD");            // other scripts kept
  EXPECT_EQ(fold_text("\xFF"), "\xEF\xBF\xBD");                                           // invalid byte -> U+FFFD
}

TEST(Normalizer, PhraseSeesThroughObfuscation) {
  const char* variants[] = {
      "MAKE A BOMB",
      "m4ke a b0mb",
      "how to m@k3 a b0mb?",
      "m a k e a b o m b",
      "make a b.o.m.b",
      "make a b-o-m-b",
      "make a b_o_m_b",
      "m\xD0\xB0ke \xD0\xB0 b\xD0\xBEmb",                                                   // Cyrillic а, о
      "\xEF\xBD\x8D\xEF\xBD\x81\xEF\xBD\x8B\xEF\xBD\x85 \xEF\xBD\x81 \xEF\xBD\x82\xEF\xBD\x8F\xEF\xBD\x8D\xEF\xBD\x82",  // fullwidth
      "make\xE2\x80\x8B a bo\xE2\x80\x8Cmb",
      "makeabomb",
      "I want to   make   a   bomb.",
  };
  for (const char* v : variants) EXPECT_TRUE(matches(v, "make a bomb")) << v;
}

TEST(Normalizer, PhraseKeepsWordBoundaries) {
  EXPECT_FALSE(matches("what a skill", "kill"));          // inside a word
  EXPECT_FALSE(matches("kills", "kill"));
  EXPECT_FALSE(matches("as sault", "assault"));           // a real space between two words stays
  EXPECT_FALSE(matches("bombay", "bomb"));
  EXPECT_FALSE(matches("1337", "leet"));                  // a number is not leetspeak
  EXPECT_TRUE(matches("k1ll", "kill"));                   // '1' may be i or l
  EXPECT_TRUE(matches("ki11", "kill"));
  EXPECT_TRUE(matches("k|ll", "kill"));
  EXPECT_TRUE(matches("do not kill!", "kill"));           // trailing punctuation is not a letter
  EXPECT_TRUE(matches("$ex", "sex"));
}

TEST(Normalizer, MatchSpansPointIntoTheOriginal) {
  const std::string text = "Please M4KE a B.O.M.B now";
  auto m = find_phrase(normalize_text(text), compile_phrase("make a bomb"));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(text.substr(m[0].src_begin, m[0].src_end - m[0].src_begin), "M4KE a B.O.M.B");
  // Multi-byte characters: the span covers their whole bytes.
  const std::string cyr = "x b\xD0\xBEmb y";
  m = find_phrase(normalize_text(cyr), compile_phrase("bomb"));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(cyr.substr(m[0].src_begin, m[0].src_end - m[0].src_begin), "b\xD0\xBEmb");
}

TEST(Normalizer, FindsEveryOccurrence) {
  auto m = find_phrase(normalize_text("kill, k1ll and KILL"), compile_phrase("kill"));
  EXPECT_EQ(m.size(), 3u);
}

}  // namespace
}  // namespace shog
