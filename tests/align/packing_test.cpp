// Packing: no loss on prompt or padding tokens, samples laid out where the
// batch says, rows never overfilled, and plan_batches agreeing with
// pack_samples on the number of rows.
#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "align/packing.h"
#include "core/error.h"

namespace shog {
namespace {

TokenizedSample sample(int32_t base, int n, int prompt) {
  TokenizedSample s;
  for (int i = 0; i < n; ++i) s.ids.push_back(base + i), s.mask.push_back(i >= prompt);
  return s;
}

TEST(Packing, LossOnlyOnMaskedTokensAndNeverOnPadding) {
  auto a = sample(100, 6, 3), b = sample(200, 9, 5), c = sample(300, 4, 1);
  std::vector<const TokenizedSample*> v{&a, &b, &c};
  PackedBatch p = pack_samples(v, 10, PackMode::next_token, 0);
  // a (5) and c (3) share row 0 by first fit; b (8) takes row 1.
  ASSERT_EQ(p.B, 2);
  EXPECT_EQ(p.first[0], 0);
  EXPECT_EQ(p.first[1], 10);
  EXPECT_EQ(p.first[2], 5);
  EXPECT_EQ(p.seg_lens, (std::vector<int32_t>{5, 3, 2, 8, 2}));
  for (size_t s = 0; s < v.size(); ++s) {
    const auto& x = *v[s];
    for (int64_t j = 0; j < p.length[s]; ++j) {
      const size_t at = size_t(p.first[s] + j);
      EXPECT_EQ(p.inputs[at], x.ids[size_t(j)]);
      if (x.mask[size_t(j + 1)]) {
        EXPECT_EQ(p.targets[at], x.ids[size_t(j + 1)]);
        EXPECT_EQ(p.weights[at], 1.0f);
      } else {
        EXPECT_EQ(p.targets[at], -1);
        EXPECT_EQ(p.weights[at], 0.0f);
      }
    }
  }
  float total = std::accumulate(p.weights.begin(), p.weights.end(), 0.0f);
  EXPECT_EQ(total, 3 + 4 + 3);  // masked tokens after the first of each sample
  for (int64_t i : {8, 9, 18, 19}) EXPECT_EQ(p.targets[size_t(i)], -1);  // padding
}

TEST(Packing, WholeModeKeepsEverySampleToken) {
  auto a = sample(1, 4, 2);
  std::vector<const TokenizedSample*> v{&a};
  PackedBatch p = pack_samples(v, 6, PackMode::whole, 9);
  EXPECT_EQ(p.length[0], 4);
  EXPECT_EQ(p.last(0), 3);
  EXPECT_EQ(p.inputs, (std::vector<int32_t>{1, 2, 3, 4, 9, 9}));
}

TEST(Packing, TooLongSampleIsRefused) {
  auto a = sample(1, 12, 2);
  std::vector<const TokenizedSample*> v{&a};
  EXPECT_FALSE(fits(a, 10, PackMode::next_token));
  EXPECT_THROW(pack_samples(v, 10, PackMode::next_token, 0), Error);
}

TEST(Packing, PlanAgreesWithPackAndRespectsRowLimit) {
  std::mt19937 rng(3);
  std::vector<TokenizedSample> s;
  std::vector<std::vector<int64_t>> lens;
  for (int i = 0; i < 200; ++i) {
    s.push_back(sample(5, 2 + int(rng() % 60), 1));
    lens.push_back({packed_length(s.back(), PackMode::next_token)});
  }
  std::vector<size_t> order(s.size());
  std::iota(order.begin(), order.end(), size_t(0));
  auto groups = plan_batches(lens, order, 64, 4);
  size_t seen = 0;
  for (auto& g : groups) {
    std::vector<const TokenizedSample*> v;
    for (size_t i : g) v.push_back(&s[i]);
    PackedBatch p = pack_samples(v, 64, PackMode::next_token, 0);
    EXPECT_LE(p.B, 4);
    seen += g.size();
  }
  EXPECT_EQ(seen, s.size());
  EXPECT_LT(groups.size(), s.size() / 2);  // packing, not one sample per batch
}

TEST(Packing, EpochsReshuffleAndCoverEverything) {
  std::vector<std::vector<int64_t>> lens(50, std::vector<int64_t>{10});
  PackedEpochs e(lens, 32, 2, 5);
  std::vector<size_t> first, second;
  for (int64_t g = 0; g < e.groups_per_epoch(); ++g)
    for (size_t u : e.next()) first.push_back(u);
  for (int64_t g = 0; g < e.groups_per_epoch(); ++g)
    for (size_t u : e.next()) second.push_back(u);
  EXPECT_EQ(first.size(), 50u);
  EXPECT_NE(first, second);
  std::sort(first.begin(), first.end());
  std::sort(second.begin(), second.end());
  EXPECT_EQ(first, second);
}

}  // namespace
}  // namespace shog
