#include "data/prepare.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_io.h"
#include "data/batch_loader.h"
#include "data/test_dir.h"
#include "data/token_shard.h"
#include "tokenizer/tokenizer.h"

namespace fs = std::filesystem;

namespace shog {
namespace {

// A byte-level tokenizer with no merges plus <|bos|>: token ids are bytes, so
// tests can predict every shard exactly.
std::string byte_tokenizer(const testing::TempDir& dir, bool with_bos = true) {
  TokenizerSpec spec;
  for (int b = 0; b < 256; ++b) spec.tokens.push_back(std::string(1, char(b)));
  spec.present.assign(256, true);
  spec.pattern = R"(\S+|\s+)";
  if (with_bos) spec.added.push_back({"<|bos|>", 256, true});
  auto path = dir.file(with_bos ? "bytes.tok" : "bytes_nobos.tok");
  Tokenizer::from_spec(spec, "test").save(path);
  return path;
}

std::vector<int32_t> shard_tokens(const std::string& path) {
  TokenShard s(path);
  std::vector<int32_t> t(s.size());
  s.copy(0, s.size(), t.data());
  return t;
}

std::vector<int32_t> with_bos(std::initializer_list<std::string> docs) {
  std::vector<int32_t> t;
  for (const auto& d : docs) {
    t.push_back(256);
    for (unsigned char c : d) t.push_back(c);
  }
  return t;
}

size_t entries(const fs::path& p) { return size_t(std::distance(fs::directory_iterator(p), {})); }

TEST(SplitParagraphs, BlankLinesSeparateDocuments) {
  auto d = split_paragraphs("\n\nfirst line\nsecond\n\n  \t\nthird\r\n\r\nlast");
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0], "first line\nsecond\n");
  EXPECT_EQ(d[1], "third\r\n");
  EXPECT_EQ(d[2], "last");
  EXPECT_TRUE(split_paragraphs("\n \n").empty());
}

TEST(Prepare, WritesShardsMetaAndSplit) {
  testing::TempDir dir;
  auto tok = byte_tokenizer(dir);
  std::string text;
  for (int i = 0; i < 10; ++i) text += "doc " + std::to_string(i) + "\n\n";
  write_file_atomic(dir.file("a.txt"), text);
  PrepareOptions o;
  o.tokenizer = tok;
  o.inputs = {dir.file("a.txt")};
  o.out_dir = dir.file("out");
  o.val_fraction = 0.2;  // documents 4 and 9
  o.progress = false;
  auto r = prepare_shards(o);
  EXPECT_EQ(r.train.documents, 8u);
  EXPECT_EQ(r.val.documents, 2u);
  EXPECT_EQ(shard_tokens(dir.file("out/val_000.bin")), with_bos({"doc 4\n", "doc 9\n"}));
  auto train = shard_tokens(dir.file("out/train_000.bin"));
  EXPECT_EQ(std::vector<int32_t>(train.begin(), train.begin() + 14), with_bos({"doc 0\n", "doc 1\n"}));
  EXPECT_EQ(r.train.tokens, train.size());
  EXPECT_EQ(TokenShard(dir.file("out/train_000.bin")).width(), 2u);
  auto meta = nlohmann::json::parse(read_file(dir.file("out/meta.json")));
  EXPECT_EQ(meta["tokenizer"]["vocab_size"], 257);
  EXPECT_EQ(meta["tokenizer"]["bos_id"], 256);
  EXPECT_EQ(meta["train"]["tokens"], train.size());
  EXPECT_EQ(prepared_shards(dir.file("out"), "val"), std::vector<std::string>{dir.file("out/val_000.bin")});
  EXPECT_EQ(entries(dir.file("out")), 3u) << "no staging directory left behind";
}

TEST(Prepare, IsDeterministicAndSplitsShardsAtDocumentBoundaries) {
  testing::TempDir dir;
  auto tok = byte_tokenizer(dir);
  std::string text;
  for (int i = 0; i < 200; ++i) text += "paragraph number " + std::to_string(i) + "\n\n";
  fs::create_directories(dir.file("in/sub"));
  write_file_atomic(dir.file("in/b.txt"), text);
  write_file_atomic(dir.file("in/sub/a.txt"), text);
  write_file_atomic(dir.file("in/ignored.md"), "not read");
  PrepareOptions o;
  o.tokenizer = tok;
  o.inputs = {dir.file("in")};
  o.val_fraction = 0.05;
  o.shard_tokens = 1000;
  o.progress = false;
  o.threads = 4;
  o.out_dir = dir.file("out1");
  auto r1 = prepare_shards(o);
  o.out_dir = dir.file("out2");
  o.threads = 1;
  auto r2 = prepare_shards(o);
  ASSERT_GT(r1.train.shards.size(), 3u);
  ASSERT_EQ(r1.train.shards.size(), r2.train.shards.size());
  for (size_t i = 0; i < r1.train.shards.size(); ++i) {
    EXPECT_EQ(read_file(r1.train.shards[i]), read_file(r2.train.shards[i]));
    auto t = shard_tokens(r1.train.shards[i]);
    EXPECT_EQ(t.front(), 256) << "every shard starts at a document";
    EXPECT_LE(t.size(), 1000u);
  }
  EXPECT_EQ(r1.train.documents + r1.val.documents, 400u);
  EXPECT_EQ(r1.val.documents, 20u);
}

TEST(Prepare, ReadsJsonl) {
  testing::TempDir dir;
  auto tok = byte_tokenizer(dir, false);
  write_file_atomic(dir.file("c.jsonl"), "{\"text\": \"h\\u00e9\", \"id\": 1}\n\n{\"text\": \"yo\"}\n");
  PrepareOptions o;
  o.tokenizer = tok;
  o.inputs = {dir.file("c.jsonl")};
  o.out_dir = dir.file("out");
  o.val_fraction = 0;
  o.format = CorpusFormat::jsonl;
  o.progress = false;
  auto r = prepare_shards(o);
  EXPECT_EQ(r.train.documents, 2u);
  EXPECT_TRUE(r.val.shards.empty());
  EXPECT_EQ(shard_tokens(dir.file("out/train_000.bin")), (std::vector<int32_t>{'h', 0xc3, 0xa9, 'y', 'o'}));
}

// Each bad input: a bad_input/io error whose message names the place, and
// the output directory is left as it was (here: never created).
void expect_failure(const PrepareOptions& o, ErrorKind kind, const std::string& needle) {
  try {
    prepare_shards(o);
    FAIL() << "no error; expected " << needle;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(o.out_dir)) << "partial output left behind";
}

class PrepareBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    o.tokenizer = byte_tokenizer(dir);
    o.out_dir = dir.file("out");
    o.progress = false;
    o.val_fraction = 0;
  }
  testing::TempDir dir;
  PrepareOptions o;
};

TEST_F(PrepareBadInput, NonUtf8NamesFileAndOffset) {
  write_file_atomic(dir.file("ok.txt"), "fine\n\n");
  write_file_atomic(dir.file("bad.txt"), "line one\ncaf\xe9 au lait\n");
  o.inputs = {dir.file("ok.txt"), dir.file("bad.txt")};
  expect_failure(o, ErrorKind::bad_input, dir.file("bad.txt") + ": byte offset 12 (line 2): invalid UTF-8");
}

TEST_F(PrepareBadInput, EmptyCorpus) {
  write_file_atomic(dir.file("empty.txt"), "\n\n   \n");
  o.inputs = {dir.file("empty.txt")};
  expect_failure(o, ErrorKind::bad_input, "empty corpus");
}

TEST_F(PrepareBadInput, MissingFile) {
  o.inputs = {dir.file("nope.txt")};
  expect_failure(o, ErrorKind::io, dir.file("nope.txt") + ": no such file");
}

TEST_F(PrepareBadInput, EmptyValidationSplit) {
  write_file_atomic(dir.file("a.txt"), "one\n\ntwo\n");
  o.inputs = {dir.file("a.txt")};
  o.val_fraction = 0.01;
  expect_failure(o, ErrorKind::bad_input, "validation split is empty");
}

TEST_F(PrepareBadInput, JsonlWithoutTheField) {
  write_file_atomic(dir.file("a.jsonl"), "{\"text\": \"x\"}\n{\"body\": \"y\"}\n");
  o.inputs = {dir.file("a.jsonl")};
  o.format = CorpusFormat::jsonl;
  expect_failure(o, ErrorKind::bad_input, dir.file("a.jsonl") + ":2: no \"text\" field");
}

TEST_F(PrepareBadInput, JsonlThatIsNotJson) {
  write_file_atomic(dir.file("a.jsonl"), "{\"text\": \"x\"\n");
  o.inputs = {dir.file("a.jsonl")};
  o.format = CorpusFormat::jsonl;
  expect_failure(o, ErrorKind::bad_input, dir.file("a.jsonl") + ":1: not valid JSON");
}

TEST_F(PrepareBadInput, FailureKeepsAnEarlierPreparationIntact) {
  write_file_atomic(dir.file("a.txt"), "one\n\ntwo\n");
  o.inputs = {dir.file("a.txt")};
  prepare_shards(o);
  auto before = read_file(dir.file("out/train_000.bin"));
  write_file_atomic(dir.file("a.txt"), "\xff");
  EXPECT_THROW(prepare_shards(o), Error);
  EXPECT_EQ(read_file(dir.file("out/train_000.bin")), before);
  EXPECT_EQ(entries(dir.file("out")), 2u);
}

TEST(Prepare, MetaIsRequiredToListShards) {
  testing::TempDir dir;
  EXPECT_THROW(prepared_shards(dir.path().string(), "train"), Error);
}

}  // namespace
}  // namespace shog
