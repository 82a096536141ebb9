// Properties of the model's interface that the objectives rely on.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/random.h"
#include "model/transformer.h"

using namespace shog;

namespace {

std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> t;
  for (int64_t i = 0; i < n; ++i) t.push_back(int32_t(rng.below(uint64_t(vocab))));
  return t;
}

// A training-time noise that set(strength) configures: absent outside
// training mode (m must start in evaluation mode), a new draw on every
// forward, the same draws once set() is called again, and the plain model,
// bit for bit, at strength 0. hidden() runs a forward and returns m.hidden().
template <class Hidden, class Set>
void expect_noise_only_in_training(Transformer& m, Hidden&& hidden, Set&& set, float strength) {
  const auto clean = hidden();
  set(strength);
  EXPECT_EQ(hidden(), clean) << "noise outside training mode";
  m.set_training(true);
  const auto first = hidden(), second = hidden();
  EXPECT_NE(first, clean);
  EXPECT_NE(first, second) << "the same draw on two forwards";
  set(strength);
  EXPECT_EQ(hidden(), first) << "setting the seed again must repeat the draws";
  set(0.0f);
  EXPECT_EQ(hidden(), clean) << "strength 0 must be the plain model, bit for bit";
}

// Each probed parameter's gradient against a central difference of the mean
// cross-entropy of tg given in (B rows of T). reset() runs before every
// forward, so that a training noise draws the same masks each time.
// Returns how many probes moved the loss at all.
template <class Reset>
int64_t expect_gradients_match_central_differences(Transformer& m, const std::vector<int32_t>& in,
                                                   const std::vector<int32_t>& tg, int64_t B, int64_t T,
                                                   Reset&& reset, const std::vector<int64_t>& probe) {
  const std::vector<float> w(size_t(B * T), 1.0f / float(B * T));
  auto loss_at = [&] {
    reset();
    m.zero_grad();
    m.forward(in.data(), B, T);
    return m.cross_entropy_backward(tg.data(), w.data());
  };
  loss_at();
  const std::vector<float> grad(m.grads(), m.grads() + m.num_floats());
  int64_t moved = 0;
  for (int64_t i : probe) {
    const float saved = m.params()[i], h = 1e-2f;
    m.params()[i] = saved + h;
    m.sync_compute_weights();
    const double up = loss_at();
    m.params()[i] = saved - h;
    m.sync_compute_weights();
    const double down = loss_at();
    m.params()[i] = saved;
    m.sync_compute_weights();
    const double fd = (up - down) / (2.0 * h);
    moved += std::fabs(fd) > 1e-4;
    EXPECT_NEAR(grad[size_t(i)], fd, 2e-3 + 2e-2 * std::fabs(fd)) << "parameter " << i;
  }
  return moved;
}

}  // namespace

// Cross-entropy is the special case g = -w of the log-prob backward; both
// paths must give the same gradients, and the fused loss the same log-probs.
TEST(Transformer, CrossEntropyEqualsLogprobBackwardWithNegativeWeights) {
  ModelConfig cfg = model_preset("tiny");
  Transformer m(cfg);
  m.init_weights(1, 0.05f);
  const int64_t B = 2, T = 12, N = B * T;
  auto in = random_tokens(N, cfg.vocab, 2), tg = random_tokens(N, cfg.vocab, 3);
  const size_t n = size_t(N);
  std::vector<float> w(n), g(n), logp(n), logp2(n);
  Rng rng(4);
  for (int64_t i = 0; i < N; ++i) w[size_t(i)] = float(rng.uniform()), g[size_t(i)] = -w[size_t(i)];

  m.zero_grad();
  m.forward(in.data(), B, T);
  double loss = m.cross_entropy_backward(tg.data(), w.data(), logp.data());
  std::vector<float> g1(m.grads(), m.grads() + m.num_floats());

  m.zero_grad();
  m.forward(in.data(), B, T);
  m.token_logprobs(tg.data(), logp2.data());
  m.logprob_backward(tg.data(), g.data());
  double expect_loss = 0;
  for (int64_t i = 0; i < N; ++i) {
    expect_loss -= double(w[size_t(i)]) * logp2[size_t(i)];
    EXPECT_NEAR(logp[size_t(i)], logp2[size_t(i)], 1e-5);
  }
  EXPECT_NEAR(loss, expect_loss, 1e-5 * std::fabs(expect_loss));
  for (int64_t i = 0; i < m.num_floats(); ++i) ASSERT_NEAR(g1[size_t(i)], m.grads()[i], 1e-6 + 1e-4 * std::fabs(g1[size_t(i)])) << i;
}

// A frozen parameter receives no gradient; the others are unchanged by the freeze.
TEST(Transformer, FrozenParametersGetNoGradient) {
  ModelConfig cfg = model_preset("tiny");
  Transformer m(cfg);
  m.init_weights(1, 0.05f);
  const int64_t B = 1, T = 8;
  auto in = random_tokens(B * T, cfg.vocab, 5), tg = random_tokens(B * T, cfg.vocab, 6);
  std::vector<float> w(size_t(B * T), 1.0f / float(B * T));
  m.zero_grad();
  m.forward(in.data(), B, T);
  m.cross_entropy_backward(tg.data(), w.data());
  std::vector<float> full(m.grads(), m.grads() + m.num_floats());

  m.set_frozen("model.layers.0.self_attn.q_proj.weight", true);
  m.set_frozen("model.layers.1.input_layernorm.weight", true);
  m.zero_grad();
  m.forward(in.data(), B, T);
  m.cross_entropy_backward(tg.data(), w.data());
  for (auto& e : m.table().entries()) {
    bool frozen = e.name == "model.layers.0.self_attn.q_proj.weight" || e.name == "model.layers.1.input_layernorm.weight";
    double diff = 0, norm = 0;
    for (int64_t i = 0; i < e.numel; ++i) {
      diff = std::max(diff, double(std::fabs(m.grads()[e.offset + i] - (frozen ? 0.0f : full[size_t(e.offset + i)]))));
      norm = std::max(norm, double(std::fabs(full[size_t(e.offset + i)])));
    }
    EXPECT_LE(diff, 1e-6 * std::max(1.0, norm)) << e.name;
  }
}

// The grad-ready hook (data parallelism sums each stretch over ranks as soon
// as it is reported): the stretches tile the gradient block exactly once, in
// backward order (final norm and head, layers from the last, embedding), and
// each is final when reported, frozen entries already cleared. Tied and
// untied heads.
TEST(Transformer, GradReadyHookReportsEachStretchOnceAndFinal) {
  for (bool smear : {false, true})
  for (bool tie : {false, true}) {
    SCOPED_TRACE(smear ? "smear" : "plain");
    ModelConfig cfg = model_preset("tiny");
    cfg.tie_embeddings = tie;
    cfg.smear = smear;
    Transformer m(cfg);
    m.init_weights(1, 0.05f);
    m.set_frozen("model.layers.1.self_attn.k_proj.weight", true);
    const int64_t B = 2, T = 8;
    auto in = random_tokens(B * T, cfg.vocab, 7), tg = random_tokens(B * T, cfg.vocab, 8);
    std::vector<float> w(size_t(B * T), 0.1f);
    struct Seen {
      int64_t off, n;
      std::vector<float> values;
    };
    std::vector<Seen> seen;
    m.set_grad_ready_hook([&](int64_t off, int64_t n) {
      seen.push_back({off, n, std::vector<float>(m.grads() + off, m.grads() + off + n)});
    });
    m.zero_grad();
    m.forward(in.data(), B, T);
    m.cross_entropy_backward(tg.data(), w.data());
    m.set_grad_ready_hook({});

    const auto& e = m.table().entries();
    auto layer_begin = [&](int64_t l) { return e[size_t(m.table().first_layer_entry() + kEntriesPerLayer * l)].offset; };
    ASSERT_EQ(int64_t(seen.size()), cfg.n_layer + 2) << "tie=" << tie;
    EXPECT_EQ(seen.front().off, layer_begin(cfg.n_layer));
    EXPECT_EQ(seen.front().off + seen.front().n, m.num_floats());
    for (int64_t l = cfg.n_layer - 1, i = 1; l >= 0; --l, ++i) {
      EXPECT_EQ(seen[size_t(i)].off, layer_begin(l)) << "layer " << l;
      EXPECT_EQ(seen[size_t(i)].off + seen[size_t(i)].n, layer_begin(l + 1)) << "layer " << l;
    }
    EXPECT_EQ(seen.back().off, 0);
    EXPECT_EQ(seen.back().n, layer_begin(0));
    // Final when reported: nothing changed them afterwards.
    for (auto& s : seen)
      for (int64_t i = 0; i < s.n; ++i)
        ASSERT_EQ(s.values[size_t(i)], m.grads()[s.off + i]) << "tie=" << tie << " offset " << s.off + i;
    const ParamEntry* k = m.table().find("model.layers.1.self_attn.k_proj.weight");
    for (int64_t i = 0; i < k->numel; ++i) ASSERT_EQ(m.grads()[k->offset + i], 0.0f);
    // The head's gradient is there when the first stretch is reported (untied).
    if (!tie) {
      const ParamEntry* head = m.table().find("lm_head.weight");
      double norm = 0;
      for (int64_t i = 0; i < head->numel; ++i) norm += std::fabs(seen.front().values[size_t(head->offset - seen.front().off + i)]);
      EXPECT_GT(norm, 0.0);
    }
    // The smear gain sits in the last stretch, and its gradient is there
    // (non-zero even at the gain's zero init) when that stretch is reported.
    if (smear) {
      const ParamEntry* g = m.table().find("model.smear.weight");
      ASSERT_LT(g->offset, layer_begin(0));
      double norm = 0;
      for (int64_t i = 0; i < g->numel; ++i) norm += std::fabs(seen.back().values[size_t(g->offset + i)]);
      EXPECT_GT(norm, 0.0);
    }
  }
}

// init_weights: the embedding may have its own std; the smear gain starts at
// zero, so a new model with a smear computes what the plain one does.
TEST(Transformer, InitGivesTheEmbeddingItsOwnStdAndTheSmearGainZero) {
  ModelConfig cfg = model_preset("tiny");
  cfg.smear = true;
  Transformer m(cfg);
  m.init_weights(3, 0.02f, 1.0f);
  auto sample_std = [&](const char* name) {
    const ParamEntry* e = m.table().find(name);
    double ss = 0;
    for (int64_t i = 0; i < e->numel; ++i) ss += double(m.params()[e->offset + i]) * m.params()[e->offset + i];
    return std::sqrt(ss / double(e->numel));
  };
  EXPECT_NEAR(sample_std("model.embed_tokens.weight"), 1.0, 0.02);  // 32768 draws: ~0.004 sampling error
  EXPECT_NEAR(sample_std("model.layers.0.self_attn.q_proj.weight"), 0.02, 0.001);
  EXPECT_EQ(sample_std("model.smear.weight"), 0.0);
  m.init_weights(3, 0.02f);  // without embed_std, the embedding follows std
  EXPECT_NEAR(sample_std("model.embed_tokens.weight"), 0.02, 0.001);
}

// Changing (B, T) reallocates activations; results depend only on the inputs.
TEST(Transformer, ForwardIsIndependentOfPreviousShapes) {
  ModelConfig cfg = model_preset("tiny");
  Transformer m(cfg);
  m.init_weights(9, 0.05f);
  auto in = random_tokens(10, cfg.vocab, 7), tg = random_tokens(10, cfg.vocab, 8);
  std::vector<float> a(10), b(10);
  m.forward(in.data(), 1, 10);
  m.token_logprobs(tg.data(), a.data());
  auto big = random_tokens(3 * 20, cfg.vocab, 10);
  m.forward(big.data(), 3, 20);
  m.forward(in.data(), 1, 10);
  m.token_logprobs(tg.data(), b.data());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a[size_t(i)], b[size_t(i)]);
}

// Causality: the log-prob at position t does not depend on tokens after t.
TEST(Transformer, IsCausal) {
  ModelConfig cfg = model_preset("tiny");
  Transformer m(cfg);
  m.init_weights(3, 0.05f);
  auto in = random_tokens(16, cfg.vocab, 1), tg = random_tokens(16, cfg.vocab, 2);
  std::vector<float> a(16), b(16);
  m.forward(in.data(), 1, 16);
  m.token_logprobs(tg.data(), a.data());
  in[12] = (in[12] + 1) % int32_t(cfg.vocab);
  m.forward(in.data(), 1, 16);
  m.token_logprobs(tg.data(), b.data());
  for (int t = 0; t < 12; ++t) EXPECT_FLOAT_EQ(a[size_t(t)], b[size_t(t)]) << t;
  bool changed = false;
  for (int t = 12; t < 16; ++t) changed |= a[size_t(t)] != b[size_t(t)];
  EXPECT_TRUE(changed);
}

TEST(Transformer, RejectsOutOfRangeTokensAndLongSequences) {
  ModelConfig cfg = model_preset("tiny");
  Transformer m(cfg);
  std::vector<int32_t> bad(4, 0);
  bad[2] = int32_t(cfg.vocab);
  EXPECT_THROW(m.forward(bad.data(), 1, 4), Error);
  std::vector<int32_t> longseq(size_t(cfg.max_seq + 1), 0);
  EXPECT_THROW(m.forward(longseq.data(), 1, cfg.max_seq + 1), Error);
}

// NEFTune (set_embedding_noise) acts in training mode only, draws anew on
// every forward, and leaves the backward exact: with the draw held fixed (the
// seed set again before each forward restarts the call count), the gradient
// of a weight matches central differences of the loss.
TEST(Transformer, EmbeddingNoiseOnlyInTrainingAndItsGradientIsExact) {
  ModelConfig cfg = model_preset("tiny");
  Transformer m(cfg);
  m.init_weights(1, 0.05f, 1.0f);
  const int64_t B = 2, T = 10, N = B * T, C = cfg.d_model;
  auto in = random_tokens(N, cfg.vocab, 7), tg = random_tokens(N, cfg.vocab, 8);
  auto hidden = [&] {
    m.forward(in.data(), B, T);
    return std::vector<float>(m.hidden(), m.hidden() + N * C);
  };
  expect_noise_only_in_training(m, hidden, [&](float alpha) { m.set_embedding_noise(alpha, 3); }, 40.0f);

  // The token embedding rows of the inputs, and a layer-0 norm weight, which
  // reads the noisy embedding directly.
  std::vector<int64_t> probe = {int64_t(in[0]) * C, int64_t(in[3]) * C + 5};
  const ParamEntry* norm = m.table().find("model.layers.0.input_layernorm.weight");
  ASSERT_NE(norm, nullptr);
  probe.push_back(norm->offset + 2);
  expect_gradients_match_central_differences(m, in, tg, B, T, [&] { m.set_embedding_noise(40.0f, 3); }, probe);
}

// Residual dropout acts in training mode only, draws new masks on every
// forward, is the plain model at p 0, and its backward is exact: with the
// masks held fixed (the seed set again before each forward), the gradients
// of weights before, inside and after the dropped blocks match central
// differences of the loss. A dropped unit that stayed in the forward, or one
// whose gradient the backward let through, fails the check.
TEST(Transformer, ResidualDropoutOnlyInTrainingAndItsGradientIsExact) {
  ModelConfig cfg = model_preset("tiny");
  Transformer m(cfg);
  m.init_weights(1, 0.2f, 1.0f);  // large enough weights that dropping a unit moves the loss
  const int64_t B = 2, T = 10, N = B * T, C = cfg.d_model;
  auto in = random_tokens(N, cfg.vocab, 7), tg = random_tokens(N, cfg.vocab, 8);
  auto hidden = [&] {
    m.forward(in.data(), B, T);
    return std::vector<float>(m.hidden(), m.hidden() + N * C);
  };
  EXPECT_THROW(m.set_residual_dropout(1.0f, 3), Error);
  EXPECT_THROW(m.set_residual_dropout(-0.1f, 3), Error);
  expect_noise_only_in_training(m, hidden, [&](float p) { m.set_residual_dropout(p, 3); }, 0.3f);

  std::vector<int64_t> probe = {int64_t(in[0]) * C + 1, int64_t(in[4]) * C + 6};
  for (const char* name : {"model.layers.0.self_attn.o_proj.weight", "model.layers.0.mlp.down_proj.weight",
                           "model.layers.1.self_attn.q_proj.weight", "model.layers.1.post_attention_layernorm.weight",
                           "model.layers.1.mlp.down_proj.weight"}) {
    const ParamEntry* e = m.table().find(name);
    ASSERT_NE(e, nullptr) << name;
    probe.push_back(e->offset + 3);
    probe.push_back(e->offset + e->numel / 2 + 1);
  }
  const int64_t moved = expect_gradients_match_central_differences(
      m, in, tg, B, T, [&] { m.set_residual_dropout(0.3f, 3); }, probe);
  EXPECT_GE(moved, int64_t(probe.size()) / 2) << "most probes must move the loss";
}
