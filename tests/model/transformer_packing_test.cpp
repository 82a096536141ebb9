// Sequence packing: samples placed back to back in one row must compute
// exactly what they compute alone (positions restart, no attention across
// the boundary), in the forward and in the weight gradients.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "model/model_test_util.h"
#include "model/transformer.h"

namespace shog {
namespace {

std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = int32_t(rng() % uint32_t(vocab));
  return t;
}

// With a previous-token smear, a sample's first token must not take the
// previous sample's last token.
TEST(TransformerPacking, PackedSamplesEqualSamplesAlone) {
  for (bool smear : {false, true})
  for (DType dt : {DType::f32, DType::bf16}) {
    SCOPED_TRACE(smear ? "smear" : "plain");
    ModelConfig cfg = model_preset("tiny");
    cfg.smear = smear;
    Transformer m(cfg, dt);
    m.init_weights(5, 0.05f);
    if (smear) test::randomize_smear(m, 6);
    const std::vector<int32_t> lens{7, 20, 5};  // one row of 32 tokens
    const int64_t T = 32;
    auto row = random_tokens(T, cfg.vocab, 11);
    auto targets = random_tokens(T, cfg.vocab, 12);
    std::vector<float> w(static_cast<size_t>(T));
    for (size_t i = 0; i < w.size(); ++i) w[i] = 0.1f + 0.01f * float(i % 7);

    // Packed: logits and weight gradient of the weighted cross-entropy.
    std::vector<float> packed_logits(size_t(T * cfg.vocab));
    m.zero_grad();
    m.forward(row.data(), 1, T, lens);
    m.logits(packed_logits.data());
    m.cross_entropy_backward(targets.data(), w.data());
    std::vector<float> packed_grad(m.grads(), m.grads() + m.num_floats());

    // Alone: each sample as its own row, gradients summed.
    std::vector<float> alone_logits;
    m.zero_grad();
    int64_t off = 0;
    for (int32_t len : lens) {
      std::vector<float> lg(size_t(len * cfg.vocab));
      m.forward(row.data() + off, 1, len);
      m.logits(lg.data());
      alone_logits.insert(alone_logits.end(), lg.begin(), lg.end());
      m.cross_entropy_backward(targets.data() + off, w.data() + off);
      off += len;
    }
    const double tol = dt == DType::f32 ? 1e-4 : 2e-2;
    double err = 0, ref = 0;
    for (size_t i = 0; i < packed_logits.size(); ++i) {
      err = std::max(err, double(std::abs(packed_logits[i] - alone_logits[i])));
      ref = std::max(ref, double(std::abs(alone_logits[i])));
    }
    EXPECT_GT(ref, 0.1);
    EXPECT_LT(err, tol) << dtype_name(dt);
    double gerr = 0, gref = 0;
    for (int64_t i = 0; i < m.num_floats(); ++i) {
      gerr = std::max(gerr, double(std::abs(packed_grad[size_t(i)] - m.grads()[i])));
      gref = std::max(gref, double(std::abs(m.grads()[i])));
    }
    EXPECT_GT(gref, 1e-3);
    EXPECT_LT(gerr, tol * std::max(1.0, gref)) << dtype_name(dt);

    // Without the segment lengths the later samples see the earlier ones.
    std::vector<float> plain(packed_logits.size());
    m.forward(row.data(), 1, T);
    m.logits(plain.data());
    double diff = 0;
    for (size_t i = size_t(lens[0] * cfg.vocab); i < plain.size(); ++i)
      diff = std::max(diff, double(std::abs(plain[i] - packed_logits[i])));
    EXPECT_GT(diff, 1e-3);
  }
}

TEST(TransformerPacking, SegmentsMustTileTheRows) {
  Transformer m(model_preset("tiny"));
  m.init_weights(1);
  auto row = random_tokens(16, m.config().vocab, 3);
  const std::vector<int32_t> short_lens{4, 4};
  EXPECT_THROW(m.forward(row.data(), 1, 16, short_lens), Error);
}

}  // namespace
}  // namespace shog
