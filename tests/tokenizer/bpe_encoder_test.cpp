// Encoder behaviour on hand-built vocabularies with known answers, and the
// short (rescan) and long (heap) merge paths agreeing with a plain reference.
#include "tokenizer/bpe_encoder.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <climits>
#include <map>

#include "core/error.h"

#include "test_corpus.h"
#include "tokenizer/tokenizer.h"

namespace shog {
namespace {

// 256 byte tokens plus the given extra tokens (ids 256...).
TokenizerSpec bytes_plus(const std::vector<std::string>& extra) {
  TokenizerSpec s;
  for (int b = 0; b < 256; ++b) s.tokens.push_back(std::string(1, char(b)));
  for (auto& e : extra) s.tokens.push_back(e);
  s.present.assign(s.tokens.size(), true);
  s.pattern = R"(\S+|\s+)";
  return s;
}

TEST(BpeEncoder, MergeListOrderDecidesNotTokenId) {
  // "abc": merges say (b,c) first, then (a,bc); the "ab" token exists but its
  // merge comes last, so it must not be used.
  auto s = bytes_plus({"ab", "bc", "abc"});
  s.merges = {{'b', 'c'}, {'a', 257}, {'a', 'b'}};
  Tokenizer t = Tokenizer::from_spec(s, "test");
  EXPECT_EQ(t.encode("abc"), (std::vector<int32_t>{258}));
  EXPECT_EQ(t.encode("abx"), (std::vector<int32_t>{256, 'x'}));
}

TEST(BpeEncoder, RanksMergeAnyPairWhoseConcatenationIsAToken) {
  auto s = bytes_plus({"ab", "bc", "abc"});
  s.order = MergeOrder::ranks;
  Tokenizer t = Tokenizer::from_spec(s, "test");
  // (a,b)=256 beats (b,c)=257; then (ab,c) gives abc.
  EXPECT_EQ(t.encode("abc"), (std::vector<int32_t>{258}));
  EXPECT_EQ(t.encode("bcd"), (std::vector<int32_t>{257, 'd'}));
}

TEST(BpeEncoder, LeftmostWinsATie) {
  auto s = bytes_plus({"aa"});
  s.merges = {{'a', 'a'}};
  Tokenizer t = Tokenizer::from_spec(s, "test");
  EXPECT_EQ(t.encode("aaa"), (std::vector<int32_t>{256, 'a'}));
  EXPECT_EQ(t.encode("aaaaa"), (std::vector<int32_t>{256, 256, 'a'}));
}

TEST(BpeEncoder, MissingByteTokenIsRejected) {
  auto s = bytes_plus({});
  s.present['q'] = false;
  try {
    Tokenizer::from_spec(s, "vocab.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("vocab.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("0x71"), std::string::npos);
  }
}

// The textbook algorithm: merge the lowest-priority adjacent pair, leftmost
// on a tie, until none applies. Quadratic, obviously right.
std::vector<int32_t> reference_bpe(const BpeModel& m, const Tokenizer& t, std::string_view piece) {
  std::vector<int32_t> ids;
  for (unsigned char c : piece) ids.push_back(*m.find(std::string(1, char(c))));
  std::map<std::pair<int32_t, int32_t>, int32_t> prio;
  for (size_t i = 0; i < m.merges().size(); ++i) prio.emplace(m.merges()[i], int32_t(i));
  for (;;) {
    int32_t best = INT_MAX;
    size_t at = 0;
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
      auto it = prio.find({ids[i], ids[i + 1]});
      if (it != prio.end() && it->second < best) best = it->second, at = i;
    }
    if (best == INT_MAX) break;
    ids[at] = *m.find(t.token_bytes(ids[at]) + t.token_bytes(ids[at + 1]));
    ids.erase(ids.begin() + at + 1);
  }
  return ids;
}

RC_GTEST_PROP(BpeEncoder, ShortAndLongPathsMatchReference, ()) {
  const Tokenizer& t = test::sample_tokenizer();
  // Pieces built from corpus letters so that merges actually fire; lengths
  // straddle the 48-byte switch between the two algorithms.
  const std::string alphabet = "thequickbrownfoxjumpsoverlazydog";
  auto len = *rc::gen::inRange<size_t>(2, 200);
  std::string piece;
  for (size_t i = 0; i < len; ++i) piece += alphabet[*rc::gen::inRange<size_t>(0, alphabet.size())];
  std::vector<int32_t> got;
  t.model().encode_piece(piece, got);
  RC_ASSERT(got == reference_bpe(t.model(), t, piece));
}

}  // namespace
}  // namespace shog
