// The paged KV cache's bookkeeping: blocks are handed out and returned,
// shared by sequences of different lengths, and running out is a clear,
// all-or-nothing error.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "core/error.h"
#include "model/kv_cache.h"

using namespace shog;

namespace {

ModelConfig tiny() { return model_preset("tiny"); }
// n token ids to commit: 0, 1, 2, ... (the pool only records them)
std::vector<int32_t> ids(int32_t n) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) v[size_t(i)] = i;
  return v;
}

}  // namespace

TEST(KvBlockPool, SequencesOfDifferentLengthsGetDisjointBlocks) {
  KvBlockPool pool(tiny(), 10, 16);
  EXPECT_EQ(pool.free_blocks(), 10);
  auto a = pool.create_sequence(), b = pool.create_sequence();
  pool.reserve({a, b}, {17, 3});  // 2 blocks + 1 block
  pool.commit(a, ids(17));
  pool.commit(b, ids(3));
  EXPECT_EQ(pool.block_table(a).size(), 2u);
  EXPECT_EQ(pool.block_table(b).size(), 1u);
  EXPECT_EQ(pool.free_blocks(), 7);
  std::set<int32_t> all(pool.block_table(a).begin(), pool.block_table(a).end());
  for (int32_t x : pool.block_table(b)) EXPECT_TRUE(all.insert(x).second) << "block " << x << " shared";
  // Growing within the last block needs no new block; crossing it does.
  pool.reserve(b, 13);
  EXPECT_EQ(pool.free_blocks(), 7);
  pool.commit(b, ids(13));
  EXPECT_EQ(pool.length(b), 16);
  pool.reserve(b, 1);
  EXPECT_EQ(pool.free_blocks(), 6);
}

TEST(KvBlockPool, FreedBlocksAreReused) {
  KvBlockPool pool(tiny(), 4, 16);
  auto a = pool.create_sequence();
  pool.reserve(a, 64);
  EXPECT_EQ(pool.free_blocks(), 0);
  std::vector<int32_t> blocks = pool.block_table(a);
  pool.free_sequence(a);
  EXPECT_EQ(pool.free_blocks(), 4);
  EXPECT_FALSE(pool.has_sequence(a));
  auto b = pool.create_sequence();
  pool.reserve(b, 64);
  auto got = pool.block_table(b);
  std::sort(blocks.begin(), blocks.end()), std::sort(got.begin(), got.end());
  EXPECT_EQ(got, blocks);
}

TEST(KvBlockPool, ExhaustionIsAClearErrorAndAllocatesNothing) {
  KvBlockPool pool(tiny(), 3, 16);
  auto a = pool.create_sequence(), b = pool.create_sequence();
  pool.reserve(a, 20);  // 2 blocks
  pool.commit(a, ids(20));
  try {
    pool.reserve({a, b}, {1, 20});  // a fits in its block; b needs 2, 1 is free
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("out of blocks"), std::string::npos) << e.what();
  }
  EXPECT_EQ(pool.free_blocks(), 1);
  EXPECT_TRUE(pool.block_table(b).empty());
  EXPECT_EQ(pool.length(a), 20);
}

TEST(KvBlockPool, TruncateReturnsTrailingBlocks) {
  KvBlockPool pool(tiny(), 8, 8);
  auto a = pool.create_sequence();
  pool.reserve(a, 30);
  pool.commit(a, ids(30));
  EXPECT_EQ(pool.free_blocks(), 4);
  pool.truncate(a, 9);
  EXPECT_EQ(pool.length(a), 9);
  EXPECT_EQ(pool.block_table(a).size(), 2u);
  EXPECT_EQ(pool.free_blocks(), 6);
  // The recorded ids follow: the last one kept is id 8, and growing again
  // appends after it.
  EXPECT_EQ(pool.token(a, 8), 8);
  EXPECT_THROW(pool.token(a, 9), Error);
  pool.reserve(a, 1);
  pool.commit(a, std::vector<int32_t>{77});
  EXPECT_EQ(pool.token(a, 9), 77);
}

TEST(KvBlockPool, RejectsBadSizes) {
  EXPECT_THROW(KvBlockPool(tiny(), 4, 12), Error);
  EXPECT_THROW(KvBlockPool(tiny(), 0, 16), Error);
}
