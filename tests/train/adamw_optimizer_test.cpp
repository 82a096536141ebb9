#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/random.h"
#include "model/transformer.h"
#include "train/adamw_optimizer.h"

using namespace shog;

namespace {
void random_grads(Transformer& m, uint64_t seed) {
  Rng rng(seed);
  for (int64_t i = 0; i < m.num_floats(); ++i) m.grads()[i] = float(rng.normal() * 1e-2);
}
}  // namespace

// The bf16 copy refreshed inside the update is exactly what a separate
// sync_compute_weights() pass would write, for every matrix.
TEST(AdamWOptimizer, FusedBf16RefreshEqualsSeparateSync) {
  Transformer m(model_preset("tiny"), DType::bf16);
  m.init_weights(1);
  random_grads(m, 2);
  AdamWOptimizer opt(m.table(), {1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f});
  opt.step(m.params(), m.grads(), 1e-2, 1.0f, m.params16());
  std::vector<uint16_t> fused;
  for (int64_t i = 0; i < m.num_floats(); ++i) fused.push_back(m.params16()[i].bits);
  m.sync_compute_weights();
  int64_t checked = 0;
  for (auto& e : m.table().entries()) {
    if (!e.is_matrix) continue;
    for (int64_t i = e.offset; i < e.offset + e.numel; ++i, ++checked)
      ASSERT_EQ(fused[size_t(i)], m.params16()[i].bits) << e.name;
  }
  EXPECT_GT(checked, 0);
}

// A non-finite gradient norm is an error raised before any parameter moves.
TEST(AdamWOptimizer, NonFiniteGradientLeavesParametersUntouched) {
  Transformer m(model_preset("tiny"));
  m.init_weights(1);
  random_grads(m, 3);
  m.grads()[17] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> before(m.params(), m.params() + m.num_floats());
  AdamWOptimizer opt(m.table(), {});
  EXPECT_THROW(opt.step(m.params(), m.grads(), 1e-3, 1.0f), Error);
  EXPECT_EQ(opt.steps_taken(), 0);
  for (int64_t i = 0; i < m.num_floats(); ++i) ASSERT_EQ(before[size_t(i)], m.params()[i]);
}

// Frozen entries and norm weights: frozen ones never move; norms are not decayed.
TEST(AdamWOptimizer, FrozenEntriesDoNotMoveAndNormsAreNotDecayed) {
  Transformer m(model_preset("tiny"));
  m.init_weights(1);
  m.set_frozen("model.layers.0.mlp.up_proj.weight", true);
  std::fill(m.grads(), m.grads() + m.num_floats(), 0.0f);  // zero gradient: only decay could move a weight
  std::vector<float> before(m.params(), m.params() + m.num_floats());
  AdamWOptimizer opt(m.table(), {1e-1f, 0.9f, 0.95f, 1e-8f, 0.5f});
  opt.step(m.params(), m.grads(), 1e-1, 0.0f);
  for (auto& e : m.table().entries()) {
    bool moved = false;
    for (int64_t i = e.offset; i < e.offset + e.numel; ++i) moved |= before[size_t(i)] != m.params()[i];
    bool expect = !e.frozen && e.decay;
    EXPECT_EQ(moved, expect) << e.name;
  }
}
