#include "data/token_shard.h"

#include <filesystem>
#include <fstream>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/file_io.h"
#include "data/test_dir.h"

namespace shog {
namespace {

std::vector<int32_t> ramp(size_t n, uint32_t vocab) {
  std::vector<int32_t> t(n);
  for (size_t i = 0; i < n; ++i) t[i] = int32_t((i * 2654435761u) % vocab);
  return t;
}

void expect_round_trip(uint32_t vocab, uint32_t width, const std::string& path) {
  auto tokens = ramp(10007, vocab);
  tokens[0] = int32_t(vocab - 1);  // the largest id must survive the narrow width
  uint64_t sum = write_token_shard(path, tokens, vocab);
  TokenShard s(path);
  EXPECT_EQ(s.width(), width);
  EXPECT_EQ(s.vocab_size(), vocab);
  EXPECT_EQ(s.checksum(), sum);
  ASSERT_EQ(s.size(), tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) ASSERT_EQ(s[i], tokens[i]) << i;
  std::vector<int32_t> out(100);
  s.copy(5000, 100, out.data());
  EXPECT_TRUE(std::equal(out.begin(), out.end(), tokens.begin() + 5000));
  EXPECT_EQ(std::filesystem::file_size(path), kShardHeaderBytes + tokens.size() * width);
}

TEST(TokenShard, RoundTripsUint16) {
  testing::TempDir dir;
  expect_round_trip(65536, 2, dir.file("a.bin"));
}

TEST(TokenShard, RoundTripsUint32) {
  testing::TempDir dir;
  expect_round_trip(100277, 4, dir.file("a.bin"));
}

TEST(TokenShard, EmptyShardIsValid) {
  testing::TempDir dir;
  write_token_shard(dir.file("e.bin"), {}, 300);
  EXPECT_EQ(TokenShard(dir.file("e.bin")).size(), 0u);
}

TEST(TokenShard, WidthFollowsVocabulary) {
  EXPECT_EQ(shard_token_width(256), 2u);
  EXPECT_EQ(shard_token_width(65536), 2u);
  EXPECT_EQ(shard_token_width(65537), 4u);
}

TEST(TokenShard, WriterRejectsOutOfVocabularyTokens) {
  testing::TempDir dir;
  std::vector<int32_t> t = {1, 2, 300};
  EXPECT_THROW(write_token_shard(dir.file("x.bin"), t, 300), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.bin")));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 0) << "temporary left behind";
}

TEST(TokenShard, Fnv1aKnownAnswers) {
  // Published FNV-1a 64 test vectors.
  EXPECT_EQ(fnv1a64("", 0), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a", 1), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar", 6), 0x85944171f73967e8ull);
}

// Corruption: each case rewrites a valid shard and expects a bad_input error
// that names the file and says what is wrong.
class CorruptShard : public ::testing::Test {
 protected:
  void SetUp() override {
    path = dir.file("c.bin");
    write_token_shard(path, ramp(1000, 5000), 5000);
    bytes = read_file(path);
  }
  void rewrite() { write_file_atomic(path, bytes); }
  void expect_error(const std::string& needle) {
    try {
      TokenShard s(path);
      FAIL() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::bad_input);
      EXPECT_EQ(e.where(), path);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }
  testing::TempDir dir;
  std::string path, bytes;
};

TEST_F(CorruptShard, WrongMagic) {
  bytes[0] = 'X';
  rewrite();
  expect_error("wrong magic");
}

TEST_F(CorruptShard, NotAShardAtAll) {
  bytes = "hello";
  rewrite();
  expect_error("shorter than the 64-byte header");
}

TEST_F(CorruptShard, Truncated) {
  bytes.resize(bytes.size() - 2);
  rewrite();
  expect_error("size mismatch");
}

TEST_F(CorruptShard, Padded) {
  bytes += std::string(4, '\0');
  rewrite();
  expect_error("size mismatch");
}

TEST_F(CorruptShard, FlippedTokenBit) {
  bytes[kShardHeaderBytes + 100] ^= 0x01;
  rewrite();
  expect_error("checksum mismatch");
}

TEST_F(CorruptShard, EditedHeaderField) {
  bytes[24] ^= 0x01;  // token count
  rewrite();
  expect_error("header checksum mismatch");
}

TEST_F(CorruptShard, FutureVersion) {
  bytes[8] = 2;
  rewrite();
  expect_error("unsupported shard version 2");
}

TEST(TokenShard, MissingFileIsAnIoError) {
  try {
    TokenShard s("/nonexistent/shard.bin");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_EQ(e.where(), "/nonexistent/shard.bin");
  }
}

}  // namespace
}  // namespace shog
