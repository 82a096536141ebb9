// The copy probe: its two losses against log-softmax of the model's own
// logits computed here; a random model saves nothing on the repeat; a tiny
// model trained on repeated runs (so that it learns to copy) saves most of
// it, while the same model at initialisation does not; bad options are
// refused.
#include "eval/copy_probe.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/random.h"
#include "model/transformer.h"
#include "train/adamw_optimizer.h"

namespace shog {
namespace {

ModelConfig tiny() {
  ModelConfig c = model_preset("tiny");
  c.vocab = 64;
  c.max_seq = 48;
  return c;
}

std::vector<int32_t> pool_of(int32_t lo, int32_t hi) {
  std::vector<int32_t> p;
  for (int32_t i = lo; i < hi; ++i) p.push_back(i);
  return p;
}

// -ln p(ids[i] | ids[<i]) from one forward pass of the whole row.
std::vector<double> reference_token_nll(Transformer& m, const std::vector<int32_t>& ids) {
  const int64_t T = int64_t(ids.size()) - 1, V = m.config().vocab;
  m.forward(ids.data(), 1, T);
  std::vector<float> logits(size_t(T * V));
  m.logits(logits.data());
  std::vector<double> out(ids.size(), 0.0);
  for (int64_t t = 0; t < T; ++t) {
    const float* l = &logits[size_t(t * V)];
    double mx = l[0], z = 0;
    for (int64_t v = 1; v < V; ++v) mx = std::max(mx, double(l[v]));
    for (int64_t v = 0; v < V; ++v) z += std::exp(double(l[v]) - mx);
    out[size_t(t + 1)] = -(double(l[ids[size_t(t + 1)]]) - mx - std::log(z));
  }
  return out;
}

TEST(CopyProbe, LossesAreTheMeanTokenLossOfEachRunAfterItsFirstToken) {
  Transformer m(tiny());
  m.init_weights(3, 0.3f);
  const std::vector<int32_t> pool = pool_of(1, 64);
  CopyProbeOptions o;
  o.runs = 5, o.run_length = 7, o.seed = 11, o.batch_rows = 2;
  const CopyProbeResult r = probe_copying(m, pool, 0, 0, o);
  // The same samples, drawn the way the probe documents it.
  Rng rng(o.seed);
  double first = 0, repeat = 0;
  for (int64_t s = 0; s < o.runs; ++s) {
    std::vector<int32_t> ids{0};
    for (int64_t i = 0; i < o.run_length; ++i) ids.push_back(pool[size_t(rng.below(pool.size()))]);
    ids.insert(ids.end(), ids.begin() + 1, ids.end());
    ASSERT_EQ(ids.size(), size_t(1 + 2 * o.run_length));
    const std::vector<double> nll = reference_token_nll(m, ids);
    for (int64_t i = 2; i <= o.run_length; ++i) first += nll[size_t(i)], repeat += nll[size_t(o.run_length + i)];
  }
  const double n = double(o.runs * (o.run_length - 1));
  EXPECT_EQ(r.runs, o.runs);
  EXPECT_EQ(r.scored_per_run, o.run_length - 1);
  EXPECT_NEAR(r.first_nats, first / n, 1e-4);
  EXPECT_NEAR(r.repeat_nats, repeat / n, 1e-4);
}

TEST(CopyProbe, ARandomModelSavesNothingOnTheRepeat) {
  Transformer m(tiny());
  m.init_weights(5, 0.02f);
  const CopyProbeResult r = probe_copying(m, pool_of(1, 64), 0, 0, {.runs = 128, .run_length = 16});
  EXPECT_NEAR(r.first_nats, std::log(64.0), 0.05);  // near uniform
  EXPECT_LT(std::fabs(r.copy_share()), 0.01);
}

// Training on <bos> r r rows with r drawn from a pool of 16 tokens: the model
// learns to copy the second run (an induction circuit), and the probe, on
// fresh runs of the same pool, sees it.
TEST(CopyProbe, AModelTrainedOnRepeatedRunsSavesMostOfTheRepeat) {
  ModelConfig cfg = tiny();
  Transformer m(cfg);
  m.init_weights(7, 0.02f);
  const std::vector<int32_t> pool = pool_of(1, 17);
  const CopyProbeOptions probe{.runs = 64, .run_length = 12, .seed = 99};
  const CopyProbeResult before = probe_copying(m, pool, 0, 0, probe);

  AdamWOptimizer opt(m.table(), {3e-3f, 0.9f, 0.95f, 1e-8f, 0.0f});
  const int64_t B = 16, L = 12, T = 2 * L;
  Rng rng(1);
  std::vector<int32_t> in(size_t(B * T)), tg(size_t(B * T));
  std::vector<float> w(size_t(B * T), 1.0f / float(B * T));
  for (int step = 0; step < 600; ++step) {
    for (int64_t b = 0; b < B; ++b) {
      std::vector<int32_t> row{0};
      for (int64_t i = 0; i < L; ++i) row.push_back(pool[size_t(rng.below(pool.size()))]);
      row.insert(row.end(), row.begin() + 1, row.end());
      for (int64_t t = 0; t < T; ++t) {
        in[size_t(b * T + t)] = row[size_t(t)];
        tg[size_t(b * T + t)] = row[size_t(t + 1)];
      }
    }
    m.zero_grad();
    m.forward(in.data(), B, T);
    m.cross_entropy_backward(tg.data(), w.data());
    opt.step(m.params(), m.grads(), 3e-3, 1.0f);
  }
  const CopyProbeResult after = probe_copying(m, pool, 0, 0, probe);
  EXPECT_LT(std::fabs(before.copy_share()), 0.02);
  EXPECT_GT(after.copy_share(), 0.5) << "first " << after.first_nats << ", repeat " << after.repeat_nats;
}

TEST(CopyProbe, RefusesAnEmptyPoolAShortRunAndRunsThatDoNotFit) {
  Transformer m(tiny());
  m.init_weights(1, 0.02f);
  EXPECT_THROW(probe_copying(m, {}, 0, 0), Error);
  EXPECT_THROW(probe_copying(m, pool_of(1, 8), 0, 0, {.run_length = 1}), Error);
  EXPECT_THROW(probe_copying(m, pool_of(1, 8), 0, 0, {.runs = 0}), Error);
  EXPECT_THROW(probe_copying(m, pool_of(1, 8), 0, 0, {.run_length = 25}), Error);  // 50 > 48
  EXPECT_NO_THROW(probe_copying(m, pool_of(1, 8), 0, 0, {.runs = 2, .run_length = 24}));
}

}  // namespace
}  // namespace shog
