#include "data/batch_loader.h"

#include <set>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/test_dir.h"

namespace shog {
namespace {

// Shards whose token i is a known function of (shard, i), so a test can tell
// exactly which window a batch row came from.
int32_t token_at(size_t shard, size_t i, uint32_t vocab) { return int32_t((shard * 7919 + i * 31 + i / 5) % vocab); }

std::vector<std::string> make_shards(const testing::TempDir& dir, std::vector<size_t> sizes, uint32_t vocab) {
  std::vector<std::string> paths;
  for (size_t s = 0; s < sizes.size(); ++s) {
    std::vector<int32_t> t(sizes[s]);
    for (size_t i = 0; i < t.size(); ++i) t[i] = token_at(s, i, vocab);
    paths.push_back(dir.file("train_" + std::to_string(s) + ".bin"));
    write_token_shard(paths.back(), t, vocab);
  }
  return paths;
}

struct Batch {
  std::vector<int32_t> x, y;
  bool operator==(const Batch&) const = default;
};

Batch next(BatchLoader& l) {
  Batch b{std::vector<int32_t>(l.batch() * l.seq_len()), std::vector<int32_t>(l.batch() * l.seq_len())};
  l.next(b.x.data(), b.y.data());
  return b;
}

std::vector<Batch> take(BatchLoader& l, int n) {
  std::vector<Batch> v;
  for (int i = 0; i < n; ++i) v.push_back(next(l));
  return v;
}

TEST(BatchLoader, SameSeedSameBatches) {
  testing::TempDir dir;
  auto paths = make_shards(dir, {5000, 3001}, 1000);
  BatchLoader a(paths, 4, 16, 42), b(paths, 4, 16, 42);
  EXPECT_EQ(take(a, 300), take(b, 300));  // several epochs
}

TEST(BatchLoader, DifferentSeedsDiffer) {
  testing::TempDir dir;
  auto paths = make_shards(dir, {5000, 3001}, 1000);
  BatchLoader a(paths, 4, 16, 1), b(paths, 4, 16, 2);
  EXPECT_NE(take(a, 10), take(b, 10));
}

TEST(BatchLoader, TargetsAreInputsShiftedByOne) {
  testing::TempDir dir;
  for (uint32_t vocab : {1000u, 70000u}) {  // uint16 and uint32 shards
    auto paths = make_shards(dir, {4000, 2500}, vocab);
    BatchLoader l(paths, 3, 10, 7);
    const int64_t T = 10;
    for (const auto& b : take(l, 200)) {
      for (int64_t r = 0; r < 3; ++r) {
        const int32_t* x = &b.x[r * T];
        const int32_t* y = &b.y[r * T];
        // Find the window: rows start at a multiple of T in some shard.
        bool found = false;
        for (size_t s = 0; s < 2 && !found; ++s) {
          size_t n = s == 0 ? 4000 : 2500;
          for (size_t w = 0; w * T + T + 1 <= n; ++w) {
            bool match = true;
            for (int64_t t = 0; t < T && match; ++t)
              match = x[t] == token_at(s, w * T + t, vocab) && y[t] == token_at(s, w * T + t + 1, vocab);
            if (match) { found = true; break; }
          }
        }
        ASSERT_TRUE(found) << "row " << r << " is not a window of T+1 consecutive tokens";
        for (int64_t t = 0; t + 1 < T; ++t) ASSERT_EQ(y[t], x[t + 1]);
      }
    }
  }
}

TEST(BatchLoader, EpochVisitsEveryWindowOnce) {
  testing::TempDir dir;
  auto paths = make_shards(dir, {1001, 501}, 60000);  // 100 + 50 windows of T=10
  BatchLoader l(paths, 5, 10, 3);
  ASSERT_EQ(l.windows(), 150u);
  ASSERT_EQ(l.batches_per_epoch(), 30u);
  EXPECT_EQ(l.tokens_per_epoch(), 30u * 5 * 10);
  std::set<std::vector<int32_t>> seen;
  for (const auto& b : take(l, 30))
    for (int r = 0; r < 5; ++r) seen.insert(std::vector<int32_t>(b.x.begin() + r * 10, b.x.begin() + r * 10 + 10));
  EXPECT_EQ(seen.size(), 150u);
  EXPECT_EQ(l.epoch(), 0u);
  auto second = take(l, 30);
  EXPECT_EQ(l.epoch(), 1u);
  BatchLoader fresh(paths, 5, 10, 3);
  EXPECT_NE(take(fresh, 30), second) << "each epoch should have its own order";
}

TEST(BatchLoader, RestoredPositionGivesIdenticalBatches) {
  testing::TempDir dir;
  auto paths = make_shards(dir, {3000, 1234}, 1000);
  BatchLoader a(paths, 4, 8, 99);
  take(a, 170);  // into the second epoch (131 windows/4 = 32 batches per epoch)
  nlohmann::json saved = a.position();
  auto expected = take(a, 100);

  BatchLoader b(paths, 4, 8, 99);
  b.restore(saved.get<LoaderPosition>());
  EXPECT_EQ(b.position(), saved.get<LoaderPosition>());
  EXPECT_EQ(take(b, 100), expected);
}

TEST(BatchLoader, RestoreRejectsOtherSettingsOrData) {
  testing::TempDir dir;
  auto paths = make_shards(dir, {3000, 1234}, 1000);
  BatchLoader a(paths, 4, 8, 99);
  auto pos = a.position();
  BatchLoader other_seed(paths, 4, 8, 100);
  EXPECT_THROW(other_seed.restore(pos), Error);
  BatchLoader other_b(paths, 2, 8, 99);
  EXPECT_THROW(other_b.restore(pos), Error);
  BatchLoader other_data({paths[0]}, 4, 8, 99);
  EXPECT_THROW(other_data.restore(pos), Error);
  BatchLoader seq(paths, 4, 8, 99, LoaderOrder::sequential);
  EXPECT_THROW(seq.restore(pos), Error);
}

TEST(BatchLoader, PositionJsonRejectsGarbage) {
  nlohmann::json j = {{"epoch", 1}};
  EXPECT_THROW(j.get<LoaderPosition>(), Error);
}

TEST(BatchLoader, ValidationIsSequentialAndRewinds) {
  testing::TempDir dir;
  auto paths = make_shards(dir, {81, 41}, 1000);  // 8 + 4 windows of T=10
  BatchLoader v(paths, 3, 10, 0, LoaderOrder::sequential);
  ASSERT_EQ(v.batches_per_epoch(), 4u);
  std::vector<std::pair<size_t, size_t>> expected;  // (shard, start) in file order
  for (size_t w = 0; w < 8; ++w) expected.push_back({0, w * 10});
  for (size_t w = 0; w < 4; ++w) expected.push_back({1, w * 10});
  auto pass = take(v, 4);
  for (size_t k = 0; k < 12; ++k) {
    auto [s, start] = expected[k];
    const auto& b = pass[k / 3];
    for (size_t t = 0; t < 10; ++t) {
      ASSERT_EQ(b.x[(k % 3) * 10 + t], token_at(s, start + t, 1000));
      ASSERT_EQ(b.y[(k % 3) * 10 + t], token_at(s, start + t + 1, 1000));
    }
  }
  EXPECT_EQ(take(v, 4), pass) << "the next epoch of a sequential loader repeats the same order";
  take(v, 1);
  v.rewind();
  EXPECT_EQ(take(v, 4), pass);
}

TEST(BatchLoader, TooLittleDataIsAClearError) {
  testing::TempDir dir;
  auto paths = make_shards(dir, {100}, 1000);  // 9 windows of T+1=12
  try {
    BatchLoader l(paths, 10, 11, 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    EXPECT_NE(std::string(e.what()).find("not enough data"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(paths[0]), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(BatchLoader(paths, 9, 11, 0));
}

TEST(BatchLoader, ShardsFromDifferentVocabulariesAreRejected) {
  testing::TempDir dir;
  auto a = make_shards(dir, {100}, 1000);
  std::vector<int32_t> t(100, 1);
  write_token_shard(dir.file("other.bin"), t, 2000);
  EXPECT_THROW(BatchLoader({a[0], dir.file("other.bin")}, 1, 8, 0), Error);
}

}  // namespace
}  // namespace shog
