// Training: determinism, specials kept out of merges, and input errors.
#include "tokenizer/bpe_trainer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "core/file_io.h"
#include "test_corpus.h"

namespace shog {
namespace {

TEST(BpeTrainer, DeterministicAcrossRunsAndThreadCounts) {
  std::string c = test::sample_corpus();
  // Several texts so that counting really runs on two threads.
  std::vector<std::string_view> texts;
  for (size_t i = 0; i < c.size(); i += 5000) texts.push_back(std::string_view(c).substr(i, 5000));
  std::vector<std::string> names(texts.size(), "sample");
  BpeTrainOptions o;
  o.vocab_size = 600;
  o.threads = 1;
  Tokenizer a = train_bpe_on_texts(texts, names, o);
  o.threads = 2;
  Tokenizer b = train_bpe_on_texts(texts, names, o);
  Tokenizer b2 = train_bpe_on_texts(texts, names, o);
  EXPECT_EQ(a.model().merges(), b.model().merges());
  EXPECT_EQ(b.model().merges(), b2.model().merges());
  EXPECT_EQ(a.vocab_size(), 600);
}

TEST(BpeTrainer, MergesTheMostFrequentPairFirst) {
  BpeTrainOptions o;
  o.vocab_size = 256 + 7 + 2;
  o.special_tokens = default_special_tokens();
  // Pre-tokens: "ab" x1, " ab" x4, " cd" x2. (a,b) occurs 5 times, then
  // (' ', ab) 4 times.
  Tokenizer t = train_bpe_on_texts({"ab ab ab ab cd cd ab"}, {"t"}, o);
  ASSERT_EQ(t.model().merges().size(), 2u);
  EXPECT_EQ(t.model().merges()[0], (std::pair<int32_t, int32_t>{'a', 'b'}));
  EXPECT_EQ(t.model().merges()[1], (std::pair<int32_t, int32_t>{' ', 256}));
  // All pairs once: the tie goes to the smallest (left, right) ids.
  Tokenizer u = train_bpe_on_texts({"ab cd"}, {"t"}, o);
  EXPECT_EQ(u.model().merges()[0], (std::pair<int32_t, int32_t>{' ', 'c'}));
}

TEST(BpeTrainer, SpecialTokensAreNeverProducedByMerges) {
  const Tokenizer& t = test::sample_tokenizer();
  int32_t n_ordinary = t.model().size();
  for (auto& s : default_special_tokens()) {
    auto id = t.special_id(s);
    ASSERT_TRUE(id.has_value()) << s;
    EXPECT_GE(*id, n_ordinary) << s;
  }
  for (auto [a, b] : t.model().merges()) {
    EXPECT_LT(a, n_ordinary);
    EXPECT_LT(b, n_ordinary);
  }
  // Training text full of special-token text still only yields ordinary ids.
  BpeTrainOptions o;
  o.vocab_size = 256 + 7 + 8;
  std::string c;
  for (int i = 0; i < 200; ++i) c += "<|bos|> hi <|end|>\n";
  Tokenizer u = train_bpe_on_texts({c}, {"specials"}, o);
  for (int32_t id : u.encode(c)) EXPECT_FALSE(u.is_special(id));
}

void expect_error(const std::function<void()>& f, ErrorKind kind, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(BpeTrainer, RejectsBadInput) {
  BpeTrainOptions o;
  o.vocab_size = 300;
  expect_error([&] { train_bpe_on_texts({"fine text\n", "bad \xc3\x28 here"}, {"a.txt", "b.txt"}, o); },
               ErrorKind::bad_input, "b.txt: byte offset 4: not valid UTF-8");
  expect_error([&] { train_bpe_on_texts({"", ""}, {"a.txt", "b.txt"}, o); }, ErrorKind::bad_input, "empty corpus");
  o.vocab_size = 256 + 6;
  expect_error([&] { train_bpe_on_texts({"text"}, {"a.txt"}, o); }, ErrorKind::invalid_argument, "smaller than");
  o.vocab_size = 100000;
  expect_error([&] { train_bpe_on_texts({"tiny text"}, {"a.txt"}, o); }, ErrorKind::invalid_argument,
               "only supports");
}

TEST(BpeTrainer, TrainsFromFiles) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("shog_trainer_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  write_file_atomic((dir / "a.txt").string(), test::sample_corpus());
  write_file_atomic((dir / "empty.txt").string(), "");
  BpeTrainOptions o;
  o.vocab_size = 400;
  Tokenizer t = train_bpe({(dir / "a.txt").string(), (dir / "empty.txt").string()}, o);
  EXPECT_EQ(t.vocab_size(), 400);
  EXPECT_THROW(train_bpe({(dir / "missing.txt").string()}, o), Error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace shog
