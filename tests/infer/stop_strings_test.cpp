// StopStringMatcher: matches across piece boundaries, hold-back of a possible
// stop prefix, flush, the earliest-completion rule, and agreement with a naive
// byte-by-byte reference under random chunkings.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "infer/stop_strings.h"

namespace shog {
namespace {

TEST(StopStringMatcher, NoStopsEmitsEverything) {
  StopStringMatcher m({});
  EXPECT_EQ(m.feed("hello").emit_upto, 5u);
  auto r = m.feed(" world");
  EXPECT_EQ(r.emit_upto, 11u);
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(m.flush(), 11u);
}

TEST(StopStringMatcher, MatchesAcrossPieceBoundaries) {
  StopStringMatcher m({"<|end|>"});
  auto r = m.feed("Hello <|");
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(r.emit_upto, 6u);  // "<|" held back
  r = m.feed("en");
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(r.emit_upto, 6u);  // "<|en" held back
  r = m.feed("d|> more");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.emit_upto, 6u);  // the stop string itself is not emitted
  EXPECT_EQ(m.flush(), 6u);
}

TEST(StopStringMatcher, StopSpanningManySingleBytePieces) {
  StopStringMatcher m({"STOP"});
  std::string text = "abcSTOPdef";
  StopStringMatcher::Result r{};
  size_t i = 0;
  for (; i < text.size() && !r.stopped; i++) r = m.feed(text.substr(i, 1));
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(i, 7u);  // stopped on the piece that completed "STOP"
  EXPECT_EQ(r.emit_upto, 3u);
}

TEST(StopStringMatcher, HeldBackPrefixIsReleasedWhenItCannotMatch) {
  StopStringMatcher m({"abc"});
  EXPECT_EQ(m.feed("xab").emit_upto, 1u);
  auto r = m.feed("d");
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(r.emit_upto, 4u);
}

TEST(StopStringMatcher, HeldBackTextIsEmittedByFlush) {
  StopStringMatcher m({"abc"});
  auto r = m.feed("xyzab");
  EXPECT_EQ(r.emit_upto, 3u);
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(m.flush(), 5u);  // generation ended for another reason: "ab" is text after all
}

TEST(StopStringMatcher, StopAtTheVeryStart) {
  StopStringMatcher m({"STOP"});
  auto r = m.feed("STOP and more");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.emit_upto, 0u);
  EXPECT_EQ(m.flush(), 0u);
}

TEST(StopStringMatcher, StopIsStickyAfterItMatched) {
  StopStringMatcher m({"x"});
  EXPECT_TRUE(m.feed("abx").stopped);
  auto r = m.feed("more text x");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.emit_upto, 2u);
  EXPECT_EQ(m.total_bytes(), 3u);  // ignored after the stop
}

TEST(StopStringMatcher, MultipleStopsTheFirstToCompleteWins) {
  StopStringMatcher m({"STOP", "\n\n"});
  auto r = m.feed("one\n");
  EXPECT_EQ(r.emit_upto, 3u);  // "\n" may start "\n\n"
  r = m.feed("\nSTOP");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.emit_upto, 3u);
}

TEST(StopStringMatcher, OverlappingPrefixes) {
  {
    StopStringMatcher m({"ab", "b"});
    EXPECT_EQ(m.feed("xa").emit_upto, 1u);  // "a" may start "ab"
    auto r = m.feed("b");
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.emit_upto, 1u);  // "ab" and "b" both end here: the longer wins
  }
  {
    StopStringMatcher m({"ab", "b"});
    auto r = m.feed("xb");
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.emit_upto, 1u);
  }
  {
    // A long stop whose prefix is held while a shorter one completes inside it.
    StopStringMatcher m({"abcd", "c"});
    EXPECT_EQ(m.feed("ab").emit_upto, 0u);
    auto r = m.feed("c");
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.emit_upto, 2u);
  }
}

TEST(StopStringMatcher, ResultDoesNotDependOnChunking) {
  // "c" completes before "abcd" does, whether fed at once or in pieces.
  StopStringMatcher whole({"abcd", "c"});
  auto r = whole.feed("abcd");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.emit_upto, 2u);
}

TEST(StopStringMatcher, HeldBackBytesInsideAUtf8Character) {
  // "é!" is C3 A9 21; a piece may end in the middle of the "é".
  StopStringMatcher m({"\xC3\xA9!"});
  EXPECT_EQ(m.feed("caf\xC3").emit_upto, 3u);
  EXPECT_EQ(m.feed("\xA9").emit_upto, 3u);
  auto r = m.feed("?");
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(r.emit_upto, 6u);
}

TEST(StopStringMatcher, OffsetsAreIntoAllTextAfterALongGeneration) {
  StopStringMatcher m({"<eos>"});
  size_t fed = 0;
  for (int i = 0; i < 10000; i++) {
    auto r = m.feed("tok ");
    fed += 4;
    ASSERT_EQ(r.emit_upto, fed);
  }
  EXPECT_EQ(m.feed("x<e").emit_upto, fed + 1);
  auto r = m.feed("os>");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.emit_upto, fed + 1);
}

TEST(StopStringMatcher, EmptyStopStringIsRejected) {
  try {
    StopStringMatcher m({"ok", ""});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("stop"), std::string::npos);
  }
}

// Reference: append one byte at a time; the first prefix of the text at whose
// end some stop ends is where generation stops, at the start of the longest
// such stop. Hold-back: the longest suffix that is a proper prefix of a stop.
struct NaiveResult {
  bool stopped = false;
  size_t stop_at = 0;
};

NaiveResult naive_stop(const std::string& text, const std::vector<std::string>& stops) {
  for (size_t n = 1; n <= text.size(); n++) {
    size_t longest = 0;
    for (const auto& s : stops)
      if (s.size() <= n && text.compare(n - s.size(), s.size(), s) == 0) longest = std::max(longest, s.size());
    if (longest > 0) return {true, n - longest};
  }
  return {};
}

size_t naive_held(const std::string& text, const std::vector<std::string>& stops) {
  size_t held = 0;
  for (const auto& s : stops)
    for (size_t len = 1; len < s.size() && len <= text.size(); len++)
      if (text.compare(text.size() - len, len, s, 0, len) == 0) held = std::max(held, len);
  return held;
}

TEST(StopStringMatcher, AgreesWithNaiveReferenceUnderRandomChunking) {
  Rng rng(7);
  const std::string alphabet = "ab\xC3\xA9";
  auto random_string = [&](size_t len) {
    std::string s;
    for (size_t i = 0; i < len; i++) s += alphabet[rng.below(alphabet.size())];
    return s;
  };
  int stopped_cases = 0, open_cases = 0;
  for (int trial = 0; trial < 2000; trial++) {
    std::vector<std::string> stops;
    const int n_stops = 1 + int(rng.below(3));
    for (int i = 0; i < n_stops; i++) stops.push_back(random_string(1 + rng.below(5)));
    const std::string text = random_string(rng.below(40));
    const NaiveResult want = naive_stop(text, stops);

    StopStringMatcher m(stops);
    size_t pos = 0, last_emit = 0;
    StopStringMatcher::Result r{0, false};
    while (pos < text.size() && !r.stopped) {
      const size_t len = std::min(text.size() - pos, size_t(rng.below(6)));
      r = m.feed(std::string_view(text).substr(pos, len));
      pos += len;
      ASSERT_GE(r.emit_upto, last_emit) << "emission went backwards";
      last_emit = r.emit_upto;
      if (!r.stopped) {
        const std::string so_far = text.substr(0, pos);
        ASSERT_EQ(r.emit_upto, pos - naive_held(so_far, stops)) << "text '" << so_far << "'";
      }
    }
    ASSERT_EQ(r.stopped, want.stopped) << "text '" << text << "'";
    if (want.stopped) {
      ASSERT_EQ(r.emit_upto, want.stop_at) << "text '" << text << "'";
      ASSERT_EQ(m.flush(), want.stop_at);
      stopped_cases++;
    } else {
      ASSERT_EQ(m.flush(), text.size());
      open_cases++;
    }
  }
  // The random cases exercised both outcomes.
  EXPECT_GT(stopped_cases, 200);
  EXPECT_GT(open_cases, 200);
}

}  // namespace
}  // namespace shog
