// Inference over the paged KV cache (Transformer::forward_cached) must give
// the logits of recomputing the whole sequence, however the tokens are cut
// into prefill chunks and decode steps and whatever else shares the batch.
//
// Tolerance: relative error = max |cached - full| / max |full| over a row of
// logits. f32: 1e-5 (the two paths sum in different orders: oneDNN kernels
// chosen per M, block-wise versus tile-wise softmax; measured ~1e-7).
// bf16: 2e-2 (both round GEMM inputs to bf16, but a different f32 sum before
// rounding can flip a bf16 ulp, 4e-3 relative, and that compounds over layers).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"
#include "core/file_io.h"
#include "core/random.h"
#include "core/safetensors.h"
#include "model/kv_cache.h"
#include "model/model_io.h"
#include "model/model_test_util.h"
#include "model/transformer.h"

using namespace shog;

namespace {

using test::random_tokens;
const auto& row_rel_err = test::rel_err;

// Logits [T, V] of the whole sequence recomputed by the training forward.
std::vector<float> full_logits(Transformer& m, const std::vector<int32_t>& toks) {
  m.forward(toks.data(), 1, int64_t(toks.size()));
  std::vector<float> out(toks.size() * size_t(m.config().vocab));
  m.logits(out.data());
  return out;
}

// Runs `n` tokens of seq through the cache and returns its logits.
std::vector<float> step(Transformer& m, KvBlockPool& kv, KvSeqId seq, const int32_t* toks, int64_t n, bool all) {
  Transformer::CachedTokens e{seq, {toks, size_t(n)}, all};
  std::vector<float> out(size_t((all ? n : 1) * m.config().vocab));
  m.forward_cached(kv, {&e, 1}, out.data());
  return out;
}

std::unique_ptr<Transformer> make_model(DType dt, int64_t kv_heads = 2, bool smear = false) {
  ModelConfig cfg = model_preset("tiny");  // 4 query heads
  cfg.n_kv_head = kv_heads;
  cfg.smear = smear;
  auto m = std::make_unique<Transformer>(cfg, dt);
  m->init_weights(7, 0.08f);  // larger than the default so logits are not all ~0
  if (smear) test::randomize_smear(*m, 8);
  return m;
}

void cached_equals_full(DType dt, int64_t block_size, double tol, DType kv_dtype = DType::f32, bool smear = false) {
  auto mp = make_model(dt, 2, smear);
  Transformer& m = *mp;
  const int64_t V = m.config().vocab, P = 11, D = 40;  // crosses several blocks; ends near max_seq 64
  auto toks = random_tokens(P + D, V, 3);
  KvBlockPool kv(m.config(), 16, block_size, kv_dtype);
  auto s = kv.create_sequence();
  std::vector<float> got = step(m, kv, s, toks.data(), P, true);
  for (int64_t i = 0; i < D; ++i) {
    auto row = step(m, kv, s, toks.data() + P + i, 1, false);
    got.insert(got.end(), row.begin(), row.end());
  }
  EXPECT_EQ(kv.length(s), P + D);
  auto ref = full_logits(m, toks);
  double worst = 0;
  for (int64_t t = 0; t < P + D; ++t) {
    double e = row_rel_err(got.data() + t * V, ref.data() + t * V, V);
    worst = std::max(worst, e);
    EXPECT_LT(e, tol) << "position " << t;
  }
  ::testing::Test::RecordProperty("worst_rel_err", fmt::format("{:.2e}", worst));
  std::printf("%s, block %lld, %s cache: worst relative error %.2e\n", std::string(dtype_name(dt)).c_str(),
              (long long)block_size, std::string(dtype_name(kv_dtype)).c_str(), worst);
}

}  // namespace

TEST(TransformerDecode, CachedLogitsEqualFullRecomputeAtEveryPositionF32) {
  cached_equals_full(DType::f32, 16, 1e-5);
  cached_equals_full(DType::f32, 8, 1e-5);
}

// With a previous-token smear, each decode step and each prefill chunk's
// first token reads the token before it from the cache's record.
TEST(TransformerDecode, CachedLogitsEqualFullRecomputeWithSmear) {
  cached_equals_full(DType::f32, 16, 1e-5, DType::f32, true);
  cached_equals_full(DType::bf16, 8, 2e-2, DType::f32, true);
}

TEST(TransformerDecode, CachedLogitsEqualFullRecomputeAtEveryPositionBf16) {
  cached_equals_full(DType::bf16, 16, 2e-2);
}

// A bf16 cache rounds every key and value once (2^-9 relative): logits within
// 2e-2 in both compute dtypes (measured ~5e-3).
TEST(TransformerDecode, Bf16CacheStaysCloseToFullRecompute) {
  cached_equals_full(DType::f32, 16, 2e-2, DType::bf16);
  cached_equals_full(DType::bf16, 16, 2e-2, DType::bf16);
}

// bf16 decoding multiplies by a panel-packed copy of the weights: a change
// of the weights must reach it, whether announced by sync_compute_weights()
// (a load) or made through params16() as an optimizer step does, with no sync.
TEST(TransformerDecode, Bf16DecodingSeesChangedWeights) {
  auto mp = make_model(DType::bf16);
  Transformer& m = *mp;
  const int64_t V = m.config().vocab, T = 9;
  const auto toks = random_tokens(T, V, 5);
  KvBlockPool kv(m.config(), 16, 16, DType::f32);
  auto last_row = [&](const std::vector<float>& full) { return std::vector<float>(full.end() - V, full.end()); };
  auto cached = [&] {
    auto s = kv.create_sequence();
    auto out = step(m, kv, s, toks.data(), T, false);
    kv.free_sequence(s);
    return out;
  };
  const auto before = cached();
  EXPECT_LT(row_rel_err(before.data(), last_row(full_logits(m, toks)).data(), V), 2e-2);
  auto perturb = [&](uint64_t seed) {
    Rng rng(seed);
    for (int64_t i = 0; i < m.num_floats(); ++i) m.params()[i] += 0.05f * float(rng.normal());
  };
  perturb(11);
  m.sync_compute_weights();
  const auto after_sync = cached();
  EXPECT_GT(row_rel_err(after_sync.data(), before.data(), V), 0.1);
  EXPECT_LT(row_rel_err(after_sync.data(), last_row(full_logits(m, toks)).data(), V), 2e-2);
  perturb(12);
  convert_f32_to_bf16(m.params(), m.params16(), size_t(m.num_floats()));
  const auto after_step = cached();
  EXPECT_GT(row_rel_err(after_step.data(), after_sync.data(), V), 0.1);
  EXPECT_LT(row_rel_err(after_step.data(), last_row(full_logits(m, toks)).data(), V), 2e-2);
}

// Three sequences at different positions in one batch (prefill together, then
// decode together) give each the logits it gets alone.
TEST(TransformerDecode, BatchedDecodingEqualsOneAtATime) {
  auto mp = make_model(DType::f32);
  Transformer& m = *mp;
  const int64_t V = m.config().vocab, steps = 9;
  const std::vector<int64_t> lens = {5, 14, 23};
  std::vector<std::vector<int32_t>> toks;
  for (size_t i = 0; i < lens.size(); ++i) toks.push_back(random_tokens(lens[i] + steps, V, 10 + i));

  KvBlockPool kv(m.config(), 32, 8);
  std::vector<KvSeqId> ids;
  for (size_t i = 0; i < lens.size(); ++i) ids.push_back(kv.create_sequence());
  // batched[i] = the last-position logits of sequence i after each call.
  std::vector<std::vector<float>> batched(lens.size());
  for (int64_t k = 0; k <= steps; ++k) {
    std::vector<Transformer::CachedTokens> b;
    for (size_t i = 0; i < lens.size(); ++i) {
      const int64_t begin = k == 0 ? 0 : lens[i] + k - 1, n = k == 0 ? lens[i] : 1;
      b.push_back({ids[i], {toks[i].data() + begin, size_t(n)}, false});
    }
    std::vector<float> out(size_t(Transformer::cached_logit_rows(b) * V));
    m.forward_cached(kv, b, out.data());
    for (size_t i = 0; i < lens.size(); ++i) batched[i].insert(batched[i].end(), out.begin() + i * V, out.begin() + (i + 1) * V);
  }
  for (size_t i = 0; i < lens.size(); ++i) {
    KvBlockPool alone(m.config(), 16, 8);
    auto s = alone.create_sequence();
    for (int64_t k = 0; k <= steps; ++k) {
      const int64_t begin = k == 0 ? 0 : lens[i] + k - 1, n = k == 0 ? lens[i] : 1;
      auto row = step(m, alone, s, toks[i].data() + begin, n, false);
      EXPECT_LT(row_rel_err(batched[i].data() + k * V, row.data(), V), 1e-5) << "sequence " << i << " step " << k;
    }
  }
}

// A prompt fed in chunks of 7, 16 and 17 tokens (not aligned to blocks) gives
// the same logits at every position as the whole prompt at once.
TEST(TransformerDecode, ChunkedPrefillEqualsOneShot) {
  for (bool smear : {false, true}) {
  SCOPED_TRACE(smear ? "smear" : "plain");
  auto mp = make_model(DType::f32, 1, smear);
  Transformer& m = *mp;
  const int64_t V = m.config().vocab, P = 40;
  auto toks = random_tokens(P + 1, V, 21);
  KvBlockPool kv(m.config(), 16, 16);
  auto whole = kv.create_sequence(), chunked = kv.create_sequence();
  auto ref = step(m, kv, whole, toks.data(), P, true);
  std::vector<float> got;
  for (auto [b, n] : std::vector<std::pair<int64_t, int64_t>>{{0, 7}, {7, 16}, {23, 17}}) {
    auto part = step(m, kv, chunked, toks.data() + b, n, true);
    got.insert(got.end(), part.begin(), part.end());
  }
  for (int64_t t = 0; t < P; ++t)
    EXPECT_LT(row_rel_err(got.data() + t * V, ref.data() + t * V, V), 1e-5) << "position " << t;
  auto a = step(m, kv, whole, toks.data() + P, 1, false), b = step(m, kv, chunked, toks.data() + P, 1, false);
  EXPECT_LT(row_rel_err(b.data(), a.data(), V), 1e-5);
  }
}

TEST(TransformerDecode, ContextOverflowIsAnErrorAndChangesNothing) {
  auto mp = make_model(DType::f32);
  Transformer& m = *mp;
  const int64_t V = m.config().vocab, max_seq = m.config().max_seq;
  auto toks = random_tokens(max_seq + 1, V, 5);
  KvBlockPool kv(m.config(), 16, 16);
  auto s = kv.create_sequence();
  std::vector<float> out(static_cast<size_t>(V));
  Transformer::CachedTokens e{s, {toks.data(), size_t(max_seq + 1)}, false};
  try {
    m.forward_cached(kv, {&e, 1}, out.data());
    FAIL() << "no error";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("max_seq"), std::string::npos) << err.what();
  }
  EXPECT_EQ(kv.length(s), 0);
  EXPECT_EQ(kv.free_blocks(), 16);
  step(m, kv, s, toks.data(), max_seq, false);  // exactly the context is fine
  EXPECT_THROW(step(m, kv, s, toks.data(), 1, false), Error);
}

TEST(TransformerDecode, PoolExhaustionIsAnErrorAndChangesNothing) {
  auto mp = make_model(DType::f32);
  Transformer& m = *mp;
  const int64_t V = m.config().vocab;
  auto toks = random_tokens(40, V, 6);
  KvBlockPool kv(m.config(), 3, 8);  // 24 token slots
  auto a = kv.create_sequence(), b = kv.create_sequence();
  step(m, kv, a, toks.data(), 10, false);
  std::vector<Transformer::CachedTokens> batch = {{a, {toks.data() + 10, 1}, false}, {b, {toks.data(), 20}, false}};
  std::vector<float> out(size_t(2 * V));
  EXPECT_THROW(m.forward_cached(kv, batch, out.data()), Error);
  EXPECT_EQ(kv.length(a), 10);
  EXPECT_EQ(kv.length(b), 0);
  EXPECT_EQ(kv.free_blocks(), 1);
}

TEST(TransformerDecode, TokenOutsideVocabularyIsAnError) {
  auto mp = make_model(DType::f32);
  Transformer& m = *mp;
  KvBlockPool kv(m.config(), 4, 16);
  auto s = kv.create_sequence();
  std::vector<int32_t> toks = {1, int32_t(m.config().vocab)};
  std::vector<float> out(size_t(m.config().vocab));
  EXPECT_THROW(step(m, kv, s, toks.data(), 2, false), Error);
  EXPECT_EQ(kv.length(s), 0);
}

// A few greedy steps against the PyTorch oracle (tests/oracle/decode_ref.py),
// which recomputes the full sequence each step: same tokens, and logits of
// every step within 1e-4 relative (as the training oracle test; measured ~1e-6).
TEST(TransformerDecode, GreedyStepsMatchPyTorchOracle) {
  auto mp = make_model(DType::f32);
  Transformer& m = *mp;
  const int64_t V = m.config().vocab, P = 9, steps = 6;
  auto prompt = random_tokens(P, V, 8);
  const std::string dir = fmt::format("{}/decode_oracle_{}", SHOG_BINARY_DIR, ::getpid());
  std::filesystem::remove_all(dir);
  make_dirs(dir);
  save_model_weights(dir, m);
  write_safetensors(dir + "/prompt.safetensors", {{"prompt", StDType::i32, {P}, prompt.data()}});
  std::string cmd = fmt::format(
      "/usr/bin/python3 {}/tests/oracle/decode_ref.py --model {d} --prompt {d}/prompt.safetensors --steps {} "
      "--out {d}/out.safetensors",
      SHOG_SOURCE_DIR, steps, fmt::arg("d", dir));
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  SafetensorsFile ref(dir + "/out.safetensors");
  auto ref_tokens = ref.to_f32("tokens");  // exact as f32 (ids < 2^24)
  auto ref_logits = ref.to_f32("logits");  // [steps, V]
  ASSERT_EQ(int64_t(ref_tokens.size()), steps);

  KvBlockPool kv(m.config(), 8, 16);
  auto s = kv.create_sequence();
  std::vector<int32_t> seq = prompt;
  auto logits = step(m, kv, s, seq.data(), P, false);
  for (int64_t k = 0; k < steps; ++k) {
    EXPECT_LT(row_rel_err(logits.data(), ref_logits.data() + k * V, V), 1e-4) << "step " << k;
    int32_t best = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    EXPECT_EQ(best, int32_t(ref_tokens[size_t(k)])) << "step " << k;
    seq.push_back(best);
    logits = step(m, kv, s, &seq.back(), 1, false);
  }
  std::filesystem::remove_all(dir);
}
