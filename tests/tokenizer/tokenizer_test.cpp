// The public Tokenizer: round trips on arbitrary bytes, special-token rules,
// batch encoding, save/load, and errors on corrupt files.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_io.h"
#include "test_corpus.h"
#include "tokenizer/byte_level.h"

namespace shog {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("shog_tok_test_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& f) const { return (path / f).string(); }
};

RC_GTEST_PROP(Tokenizer, DecodeEncodeRoundTripsArbitraryBytes, (const std::string& s)) {
  // std::string's generator covers every byte value, so invalid UTF-8 (lone
  // continuation bytes, truncated sequences, 0xFF) is exercised.
  const Tokenizer& t = test::sample_tokenizer();
  RC_ASSERT(t.decode(t.encode(s)) == s);
  RC_ASSERT(t.decode(t.encode_with_special(s)) == s);
}

RC_GTEST_PROP(Tokenizer, RoundTripsTextNearSpecialsAndInvalidBytes, ()) {
  const Tokenizer& t = test::sample_tokenizer();
  static const std::vector<std::string> parts = {"<|bos|>", "<|end|>", "<|", "|>", "\xff", "\xe6\x97", "hello",
                                                 " ",       "\n\n",      "日本語", "café", "😀", "1234567"};
  std::string s;
  for (auto i : *rc::gen::container<std::vector<size_t>>(rc::gen::inRange<size_t>(0, parts.size()))) s += parts[i];
  RC_ASSERT(t.decode(t.encode(s)) == s);
  RC_ASSERT(t.decode(t.encode_with_special(s)) == s);
}

TEST(Tokenizer, SpecialTextIsPlainUnlessAskedFor) {
  const Tokenizer& t = test::sample_tokenizer();
  int32_t bos = *t.special_id("<|bos|>");
  auto plain = t.encode("<|bos|>hi");
  EXPECT_EQ(std::count(plain.begin(), plain.end(), bos), 0);
  auto special = t.encode_with_special("x<|bos|>hi");
  EXPECT_EQ(std::count(special.begin(), special.end(), bos), 1);
  EXPECT_TRUE(t.is_special(bos));
  EXPECT_FALSE(t.special_id("<|nope|>").has_value());
}

TEST(Tokenizer, BatchEqualsOneByOne) {
  const Tokenizer& t = test::sample_tokenizer();
  std::string c = test::sample_corpus();
  std::vector<std::string> texts;
  for (size_t i = 0; i < c.size(); i += 977) texts.push_back(c.substr(i, 977 + i % 300));
  auto batch = t.encode_batch(texts, 2);
  ASSERT_EQ(batch.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(batch[i], t.encode(texts[i]));
}

TEST(Tokenizer, DecodeRejectsUnknownId) {
  const Tokenizer& t = test::sample_tokenizer();
  std::vector<int32_t> ids = {t.vocab_size()};
  EXPECT_THROW(t.decode(ids), Error);
  ids = {-1};
  EXPECT_THROW(t.decode(ids), Error);
}

TEST(Tokenizer, SaveLoadKeepsEverything) {
  TempDir d;
  const Tokenizer& t = test::sample_tokenizer();
  t.save(d / "tok.json");
  Tokenizer u = Tokenizer::load(d / "tok.json");
  EXPECT_EQ(u.vocab_size(), t.vocab_size());
  std::string c = test::sample_corpus();
  EXPECT_EQ(u.encode(c), t.encode(c));
  EXPECT_EQ(u.special_id("<|assistant|>"), t.special_id("<|assistant|>"));
  // Saving what was loaded gives the same bytes: the format is canonical.
  u.save(d / "tok2.json");
  EXPECT_EQ(read_file(d / "tok.json"), read_file(d / "tok2.json"));
}

// Expects load(path) to fail with bad_input naming the file and `what`.
void expect_bad_file(const std::string& path, const std::string& what) {
  try {
    Tokenizer::load(path);
    ADD_FAILURE() << "loaded a corrupt file: " << path;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(Tokenizer, CorruptFilesAreRefusedWithFileAndProblem) {
  TempDir d;
  test::sample_tokenizer().save(d / "good.json");
  std::string good = read_file(d / "good.json");

  write_file_atomic(d / "truncated.json", good.substr(0, good.size() / 2));
  expect_bad_file(d / "truncated.json", "not valid JSON");

  write_file_atomic(d / "empty.tiktoken", "");
  expect_bad_file(d / "empty.tiktoken", "empty");

  std::string flipped = good;
  size_t at = flipped.find("\"merges\"");
  at = flipped.find_first_of("123456789", at);
  flipped[at] = flipped[at] == '1' ? '2' : '1';
  write_file_atomic(d / "flipped.json", flipped);
  expect_bad_file(d / "flipped.json", "checksum");

  std::string v2 = good;
  v2.replace(v2.find("\"version\": 1"), 12, "\"version\": 9");
  write_file_atomic(d / "v9.json", v2);
  expect_bad_file(d / "v9.json", "version 9");

  write_file_atomic(d / "other.json", "{\"hello\": 1}");
  expect_bad_file(d / "other.json", "neither");

  write_file_atomic(d / "cl100k_base.tiktoken", "IQ== 0\n!!!! 1\n");
  expect_bad_file(d / "cl100k_base.tiktoken", ":2");

  // A rank far past the number of entries must be refused, not allocated
  // (libFuzzer found this one: it asked for a 785-million-entry table).
  write_file_atomic(d / "r50k_base.tiktoken", "IQ== 785357251\n\n");
  expect_bad_file(d / "r50k_base.tiktoken", "out of range");

  write_file_atomic(d / "mystery.tiktoken", "IQ== 0\n");
  expect_bad_file(d / "mystery.tiktoken", "file name");

  EXPECT_THROW(Tokenizer::load(d / "missing.json"), Error);
}

TEST(Tokenizer, FailedSaveLeavesNothingBehind) {
  TempDir d;
  EXPECT_THROW(test::sample_tokenizer().save(d / "no_such_dir/tok.json"), Error);
  EXPECT_FALSE(fs::exists(d / "no_such_dir"));
}

TEST(Tokenizer, HuggingFaceJsonBothMergeFormsAndAddedTokens) {
  TempDir d;
  // A byte-level vocabulary: 256 bytes in GPT-2's alphabet, then "Ġa" and "Ġab".
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_level::char_of_byte(uint8_t(b))] = b;
  vocab["\xc4\xa0" "a"] = 256;       // "Ġa" = " a"
  vocab["\xc4\xa0" "ab"] = 257;      // "Ġab" = " ab"
  for (int form = 0; form < 2; ++form) {
    nlohmann::json merges = form == 0 ? nlohmann::json::array({"\xc4\xa0 a", "\xc4\xa0" "a b"})
                                      : nlohmann::json::array({{"\xc4\xa0", "a"}, {"\xc4\xa0" "a", "b"}});
    nlohmann::json j = {
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}},
        {"pre_tokenizer",
         {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"}, {"pattern", {{"Regex", R"( ?\p{L}+|\s+|.)"}}}, {"behavior", "Isolated"}, {"invert", false}},
            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}}},
        {"added_tokens",
         {{{"id", 300}, {"content", "<|special|>"}, {"special", true}},
          {{"id", 301}, {"content", "<think>"}, {"special", false}}}}};
    write_file_atomic(d / "tokenizer.json", j.dump());
    Tokenizer t = Tokenizer::load(d / "tokenizer.json");
    EXPECT_EQ(t.vocab_size(), 302);
    EXPECT_EQ(t.encode(" ab"), (std::vector<int32_t>{257}));
    EXPECT_EQ(t.encode_with_special("x<|special|> ab"), (std::vector<int32_t>{'x', 300, 257}));
    // Non-special added tokens are matched even in plain encode (HF does).
    EXPECT_EQ(t.encode("<think>"), (std::vector<int32_t>{301}));
    EXPECT_EQ(t.decode(t.encode_with_special("<|special|><think> ab")), "<|special|><think> ab");
  }
}

}  // namespace
}  // namespace shog
