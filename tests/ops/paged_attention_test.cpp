// Paged attention against a naive softmax(q k^T / sqrt(hd)) v over contiguous
// keys: several sequences with different cached lengths and chunk sizes,
// scattered (shuffled) blocks, grouped-query heads, every block size.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include <omp.h>

#include "core/random.h"
#include "ops/paged_attention.h"

using namespace shog;
using namespace shog::ops;

namespace {

struct Case {
  int64_t H, KVH, hd, BS;
  std::vector<std::pair<int64_t, int64_t>> seqs;  // (pos0, n_q)
  DType kv = DType::f32;
  // The new tokens' keys and values handed to the attention (PagedNewKv)
  // instead of stored beforehand; the cache must end up the same.
  bool fused = false;
};

void run_case(const Case& c) {
  Rng rng(42);
  auto rnd = [&] { return float(rng.normal()); };
  const int64_t H = c.H, KVH = c.KVH, hd = c.hd, BS = c.BS, group = H / KVH;
  const int64_t q_stride = H * hd + 3;  // padded, as inside a fused qkv buffer
  // Every sequence's full keys/values [len][KVH][hd], contiguous (the reference's view).
  std::vector<std::vector<float>> K, V;
  std::vector<std::vector<int32_t>> tables;
  int64_t total_blocks = 0, rows = 0;
  for (auto [p0, n] : c.seqs) total_blocks += (p0 + n + BS - 1) / BS, rows += n;
  std::vector<int32_t> perm(static_cast<size_t>(total_blocks));
  std::iota(perm.begin(), perm.end(), 0);
  for (size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);  // scattered blocks
  const int64_t block_floats = KVH * hd * BS;
  // The cache's bytes (f32 or bf16 elements).
  const size_t cache_bytes = size_t(total_blocks * block_floats) * dtype_size(c.kv);
  std::vector<char> kc(cache_bytes), vc(cache_bytes);
  std::vector<char> kc_all(cache_bytes), vc_all(cache_bytes);  // every token stored by paged_kv_store
  std::vector<float> new_k(size_t(rows * KVH * hd)), new_v(new_k.size());
  std::vector<int64_t> new_slot(static_cast<size_t>(rows));
  std::vector<float> q(size_t(rows * q_stride)), out(size_t(rows * H * hd));
  for (auto& x : q) x = rnd();
  std::vector<PagedSequence> ps;
  int64_t next_block = 0, row = 0;
  for (auto [p0, n] : c.seqs) {
    const int64_t len = p0 + n, nb = (len + BS - 1) / BS;
    std::vector<int32_t> t(perm.begin() + next_block, perm.begin() + next_block + nb);
    next_block += nb;
    std::vector<float> k(size_t(len * KVH * hd)), v(k.size());
    // With a bf16 cache the reference sees the values the cache can hold.
    auto round = [&](float x) { return c.kv == DType::bf16 ? bf16_to_f32(f32_to_bf16(x)) : x; };
    for (auto& x : k) x = round(rnd());
    for (auto& x : v) x = round(rnd());
    std::vector<int64_t> slot(static_cast<size_t>(len));
    for (int64_t p = 0; p < len; ++p) slot[size_t(p)] = int64_t(t[size_t(p / BS)]) * BS + p % BS;
    PagedAttentionShape s{H, KVH, hd, BS, q_stride, c.kv};
    paged_kv_store(kc_all.data(), vc_all.data(), k.data(), v.data(), KVH * hd, slot.data(), len, s);
    const int64_t stored = c.fused ? p0 : len;  // fused: the chunk's own tokens go in with the attention
    paged_kv_store(kc.data(), vc.data(), k.data(), v.data(), KVH * hd, slot.data(), stored, s);
    for (int64_t i = 0; i < n; ++i) {
      std::copy_n(k.data() + (p0 + i) * KVH * hd, KVH * hd, new_k.data() + (row + i) * KVH * hd);
      std::copy_n(v.data() + (p0 + i) * KVH * hd, KVH * hd, new_v.data() + (row + i) * KVH * hd);
      new_slot[size_t(row + i)] = slot[size_t(p0 + i)];
    }
    K.push_back(std::move(k)), V.push_back(std::move(v)), tables.push_back(std::move(t));
    ps.push_back({row, n, p0, nullptr});
    row += n;
  }
  for (size_t i = 0; i < ps.size(); ++i) ps[i].blocks = tables[i].data();
  const PagedNewKv fresh{new_k.data(), new_v.data(), KVH * hd, new_slot.data()};
  paged_attention_forward(out.data(), q.data(), kc.data(), vc.data(), ps.data(), int64_t(ps.size()),
                          {H, KVH, hd, BS, q_stride, c.kv}, c.fused ? &fresh : nullptr);
  EXPECT_TRUE(kc == kc_all && vc == vc_all) << "the cache after the call differs from every token stored beforehand";

  double worst = 0;
  for (size_t si = 0; si < ps.size(); ++si)
    for (int64_t i = 0; i < ps[si].n_q; ++i)
      for (int64_t h = 0; h < H; ++h) {
        const int64_t r = ps[si].q_row + i, pos = ps[si].pos0 + i, g = h / group;
        const float* qr = q.data() + r * q_stride + h * hd;
        std::vector<double> sc(size_t(pos + 1));
        double mx = -1e300;
        for (int64_t j = 0; j <= pos; ++j) {
          double d = 0;
          for (int64_t e = 0; e < hd; ++e) d += double(qr[e]) * K[si][size_t((j * KVH + g) * hd + e)];
          sc[size_t(j)] = d / std::sqrt(double(hd));
          mx = std::max(mx, sc[size_t(j)]);
        }
        double z = 0;
        for (auto& x : sc) z += (x = std::exp(x - mx));
        for (int64_t e = 0; e < hd; ++e) {
          double o = 0;
          for (int64_t j = 0; j <= pos; ++j) o += sc[size_t(j)] * V[si][size_t((j * KVH + g) * hd + e)];
          worst = std::max(worst, std::fabs(o / z - double(out[size_t((r * H + h) * hd + e)])));
        }
      }
  EXPECT_LT(worst, 2e-5) << "H=" << H << " KVH=" << KVH << " hd=" << hd << " BS=" << BS << " " << dtype_name(c.kv);
}

}  // namespace

TEST(PagedAttention, DecodeRowsAtDifferentPositionsMatchNaive) {
  run_case({4, 2, 16, 16, {{0, 1}, {15, 1}, {16, 1}, {47, 1}, {100, 1}}});
}

TEST(PagedAttention, PrefillChunksAreCausalWithinTheChunk) {
  // A fresh prompt, a chunk after cached tokens, one crossing block borders.
  run_case({4, 1, 32, 16, {{0, 37}, {21, 19}, {5, 3}}});
}

TEST(PagedAttention, EveryBlockSizeAndHeadLayout) {
  for (int64_t bs : {8, 16, 32, 64}) {
    run_case({6, 3, 64, bs, {{0, 5}, {70, 1}, {33, 20}}});
    run_case({2, 2, 8, bs, {{9, 2}, {0, 1}}});  // no grouping, tiny head
  }
}

TEST(PagedAttention, Bf16CacheEqualsF32MathOnRoundedValues) {
  for (int64_t bs : {16, 32}) run_case({4, 2, 64, bs, {{0, 9}, {40, 1}, {17, 30}}, DType::bf16});
}

TEST(PagedAttention, WideDecodeBatchesSpanSeveralKvHeadsPerUnit) {
  // Decode units take several kv heads at once when there are enough decode
  // sequences per thread (KVH * decode rows / (4 * threads), at most KVH):
  // with 3 kv heads and 6 decode rows that is all three heads on 1 thread,
  // runs of two (the second cut short at the last head) on 2, one on 3. A
  // prefill chunk rides along with per-head units.
  const int saved = omp_get_max_threads();
  std::vector<std::pair<int64_t, int64_t>> seqs{{0, 1}, {15, 1}, {16, 1}, {47, 1}, {100, 1}, {33, 1}, {20, 9}};
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    run_case({6, 3, 64, 16, seqs});
    run_case({6, 3, 64, 16, seqs, DType::bf16});
    run_case({12, 12, 32, 8, {{5, 1}, {60, 1}, {61, 1}, {7, 1}, {0, 4}}});  // no grouping, 8-key blocks
  }
  omp_set_num_threads(saved);
}

TEST(PagedAttention, StoringTheNewTokensInTheCallEqualsStoringThemFirst) {
  // Decode rows (stored by their own units, also several kv heads per unit)
  // beside prefill chunks (stored before any unit reads), f32 and bf16.
  for (DType kv : {DType::f32, DType::bf16}) {
    run_case({4, 2, 16, 16, {{0, 1}, {15, 1}, {16, 1}, {47, 1}, {100, 1}}, kv, true});
    run_case({4, 1, 32, 16, {{0, 37}, {21, 19}, {5, 3}, {30, 1}}, kv, true});
    run_case({6, 3, 64, 8, {{0, 5}, {70, 1}, {33, 20}, {8, 1}, {9, 1}, {1, 1}, {2, 1}}, kv, true});
  }
}
