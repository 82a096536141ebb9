// MuonOptimizer: which entries it takes, its update against a double
// transcription of Muon's formula around the (separately tested)
// Newton-Schulz op, an AdamW part identical to AdamWOptimizer's, and a bad
// step that changes nothing. The whole update against PyTorch is in
// transformer_oracle_test.cpp (F32MuonStepsMatchPyTorch).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "model/transformer.h"
#include "ops/newton_schulz.h"
#include "train/muon_optimizer.h"

using namespace shog;

namespace {

void random_grads(Transformer& m, uint64_t seed, double scale) {
  Rng rng(seed);
  for (int64_t i = 0; i < m.num_floats(); ++i) m.grads()[i] = float(rng.normal() * scale);
}

}  // namespace

TEST(MuonOptimizer, TakesOnlyTheLayersMatrices) {
  for (bool tied : {false, true}) {
    ModelConfig c = model_preset("tiny");
    c.tie_embeddings = tied;
    c.smear = true;
    Transformer m(c);
    m.set_frozen("model.layers.1.self_attn.k_proj.weight", true);
    int64_t taken = 0;
    for (auto& e : m.table().entries()) {
      const bool layer_matrix = e.name.find("_proj.weight") != std::string::npos;
      const bool want = layer_matrix && !e.frozen;
      EXPECT_EQ(MuonOptimizer::takes(e), want) << e.name;
      taken += want;
    }
    EXPECT_EQ(taken, 7 * c.n_layer - 1);  // q k v o gate up down per layer, less the frozen one
  }
}

// Three steps with clipping active and decay on. Muon's matrices follow the
// formula in double around ops::newton_schulz_orthogonalize; every other
// entry must be bit for bit what AdamWOptimizer does with the same inputs.
TEST(MuonOptimizer, StepFollowsMuonFormulaAndAdamWElsewhere) {
  Transformer m(model_preset("tiny"));  // 64 wide: q/o square, k/v wide, gate/up tall, down wide
  m.init_weights(1);
  Transformer twin(model_preset("tiny"));
  std::copy(m.params(), m.params() + m.num_floats(), twin.params());
  const MuonHyper mh{0.05f, 0.9f, true, 5, 0.1f, DType::f32};
  const ops::AdamWHyper ah{1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f};
  AdamWOptimizer state(m.table(), ah), plain(twin.table(), ah);
  MuonOptimizer opt(state, mh);
  const int64_t n = m.num_floats();
  std::vector<double> p(m.params(), m.params() + n), mom(size_t(n), 0.0);
  for (int step = 1; step <= 3; ++step) {
    random_grads(m, uint64_t(10 + step), 0.5);  // norm ~ 0.5 sqrt(n) >> the clip: scale < 1
    std::copy(m.grads(), m.grads() + n, twin.grads());
    const double norm = opt.step(m.params(), m.grads(), 1e-2, 0.05, 1.0f);
    plain.step(twin.params(), twin.grads(), 1e-2, 1.0f);
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += double(m.grads()[i]) * m.grads()[i];
    EXPECT_NEAR(norm, std::sqrt(ss), 1e-9 * norm);
    const double scale = std::min(1.0, 1.0 / (double(float(norm)) + 1e-6));
    for (auto& e : m.table().entries()) {
      if (!MuonOptimizer::takes(e)) {
        for (int64_t i = e.offset; i < e.offset + e.numel; ++i)
          ASSERT_EQ(m.params()[i], twin.params()[i]) << e.name << " step " << step;
        continue;
      }
      const int64_t rows = e.shape[0], cols = e.shape[1];
      std::vector<float> u(size_t(e.numel));
      for (int64_t i = 0; i < e.numel; ++i) {
        const size_t k = size_t(e.offset + i);
        const double g = double(m.grads()[k]) * scale;
        mom[k] += (1 - 0.9) * (g - mom[k]);
        u[size_t(i)] = float(g + 0.9 * (mom[k] - g));
      }
      ops::newton_schulz_orthogonalize(u.data(), rows, cols, 5, DType::f32, u.data());
      const double lr = 0.05 * std::sqrt(std::max(1.0, double(rows) / double(cols)));
      double err = 0, moved = 0;
      for (int64_t i = 0; i < e.numel; ++i) {
        const size_t k = size_t(e.offset + i);
        const double before = p[k];
        p[k] = before * (1 - 0.05 * 0.1) - lr * u[size_t(i)];
        err = std::max(err, std::fabs(p[k] - m.params()[k]));
        moved = std::max(moved, std::fabs(p[k] - before));
        EXPECT_NEAR(state.m()[k], mom[k], 1e-5) << e.name;
        EXPECT_EQ(state.v()[k], 0.0f) << e.name;
      }
      // An update moves entries by ~lr / sqrt(cols); float rounding of the
      // momentum feeds the Newton-Schulz input and stays ~1e-5 of that.
      EXPECT_GT(moved, 1e-3) << e.name;
      EXPECT_LT(err, 1e-5) << e.name << " step " << step;
    }
    for (int64_t i = 0; i < n; ++i) p[size_t(i)] = m.params()[i];  // follow our own trajectory from here
  }
  EXPECT_EQ(state.steps_taken(), 3);
}

TEST(MuonOptimizer, NonFiniteGradientLeavesEverythingUntouched) {
  Transformer m(model_preset("tiny"));
  m.init_weights(1);
  random_grads(m, 3, 1e-2);
  AdamWOptimizer state(m.table(), {});
  MuonOptimizer opt(state, {});
  opt.step(m.params(), m.grads(), 1e-3, 0.02, 1.0f);
  const std::vector<float> p(m.params(), m.params() + m.num_floats()), mom(state.m());
  m.grads()[m.table().find("model.layers.0.mlp.down_proj.weight")->offset + 5] =
      std::numeric_limits<float>::infinity();
  EXPECT_THROW(opt.step(m.params(), m.grads(), 1e-3, 0.02, 1.0f), Error);
  EXPECT_EQ(state.steps_taken(), 1);
  EXPECT_EQ(state.m(), mom);
  for (int64_t i = 0; i < m.num_floats(); ++i) ASSERT_EQ(p[size_t(i)], m.params()[i]);
}

// The bf16 compute copy is refreshed for Muon's matrices as for AdamW's.
TEST(MuonOptimizer, RefreshesTheBf16Copy) {
  Transformer m(model_preset("tiny"), DType::bf16);
  m.init_weights(1);
  random_grads(m, 4, 1e-2);
  AdamWOptimizer state(m.table(), {});
  MuonOptimizer opt(state, {});
  opt.step(m.params(), m.grads(), 1e-3, 0.02, 1.0f, m.params16());
  std::vector<uint16_t> fused;
  for (int64_t i = 0; i < m.num_floats(); ++i) fused.push_back(m.params16()[i].bits);
  m.sync_compute_weights();
  for (auto& e : m.table().entries()) {
    if (!e.is_matrix) continue;
    for (int64_t i = e.offset; i < e.offset + e.numel; ++i) ASSERT_EQ(fused[size_t(i)], m.params16()[i].bits) << e.name;
  }
}
