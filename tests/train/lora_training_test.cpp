// Training a LoRA adapter and a linear head with AdamWOptimizer, the way the
// alignment trainers do: attach, training mode, forward, a backward from the
// log-probs (or the head), and an optimizer step on the adapter's own block.
// The loss must fall and the base weights must not move.
#include <gtest/gtest.h>

#include <cmath>

#include "core/random.h"
#include "model/linear_head.h"
#include "model/lora.h"
#include "model/transformer.h"
#include "train/adamw_optimizer.h"

using namespace shog;

TEST(LoraTraining, AdamWOnTheAdapterLowersTheLossAndLeavesTheBaseAlone) {
  for (DType dt : {DType::f32, DType::bf16}) {
    SCOPED_TRACE(std::string(dtype_name(dt)));
    ModelConfig cfg = model_preset("tiny");
    Transformer m(cfg, dt);
    m.init_weights(1, 0.08f);
    const std::vector<float> base(m.params(), m.params() + m.num_floats());
    LoraConfig lc;
    lc.rank = 4, lc.alpha = 8, lc.dropout = 0.1f;
    lc.targets = {LoraTarget::q, LoraTarget::k, LoraTarget::v, LoraTarget::o, LoraTarget::gate, LoraTarget::up,
                  LoraTarget::down};
    LoraAdapter adapter(cfg, lc);
    adapter.init(2);
    m.attach_lora(&adapter);
    m.set_training(true);
    m.set_dropout_seed(3);
    AdamWOptimizer opt(adapter.table(), {1e-2f, 0.9f, 0.95f, 1e-8f, 0.0f});

    const int64_t B = 2, T = 16, N = B * T;
    Rng rng(4);
    std::vector<int32_t> in(static_cast<size_t>(N)), tg(static_cast<size_t>(N));
    for (size_t i = 0; i < in.size(); ++i) in[i] = int32_t(rng.below(64)), tg[i] = (in[i] * 7 + 1) % 64;
    std::vector<float> w(static_cast<size_t>(N), 1.0f / float(N));
    double first = 0, last = 0;
    for (int step = 0; step < 30; ++step) {
      adapter.zero_grad();
      m.forward(in.data(), B, T);
      const double loss = m.cross_entropy_backward(tg.data(), w.data());
      opt.step(adapter.params(), adapter.grads(), 1e-2, 1.0f);
      (step == 0 ? first : last) = loss;
    }
    EXPECT_LT(last, 0.8 * first);
    for (int64_t i = 0; i < m.num_floats(); ++i) ASSERT_EQ(m.params()[i], base[size_t(i)]) << i;
  }
}

// A reward-style head on the last token of each row, trained together with
// an adapter (two optimizers, one per block), separates two sets of rows.
TEST(LoraTraining, HeadAndAdapterTrainTogetherThroughHiddenGrad) {
  ModelConfig cfg = model_preset("tiny");
  Transformer m(cfg);
  m.init_weights(5, 0.08f);
  LoraAdapter adapter(cfg, LoraConfig{});
  adapter.init(6);
  LinearHead head(cfg.d_model, 1);
  head.init(7, 0.02f);
  m.attach_lora(&adapter);
  AdamWOptimizer opt_a(adapter.table(), {1e-2f, 0.9f, 0.95f, 1e-8f, 0.0f});
  AdamWOptimizer opt_h(head.table(), {1e-2f, 0.9f, 0.95f, 1e-8f, 0.0f});
  const int64_t B = 4, T = 8;
  Rng rng(8);
  std::vector<int32_t> in(static_cast<size_t>(B * T));
  for (auto& t : in) t = int32_t(rng.below(uint64_t(cfg.vocab)));
  const std::vector<int64_t> last = {T - 1, 2 * T - 1, 3 * T - 1, 4 * T - 1};
  const std::vector<float> label = {1, -1, 1, -1};
  auto margin = [&] {  // sum over rows of label * score
    m.forward(in.data(), B, T);
    std::vector<float> s(4);
    head.forward(m.hidden(), last, s.data());
    double r = 0;
    for (int i = 0; i < 4; ++i) r += label[size_t(i)] * s[size_t(i)];
    return r;
  };
  const double before = margin();
  for (int step = 0; step < 20; ++step) {
    adapter.zero_grad();
    head.zero_grad();
    m.forward(in.data(), B, T);
    std::vector<float> s(4), ds(4);
    head.forward(m.hidden(), last, s.data());
    for (int i = 0; i < 4; ++i) ds[size_t(i)] = -label[size_t(i)] / (1 + std::exp(label[size_t(i)] * s[size_t(i)]));
    head.backward(m.hidden(), last, ds.data(), m.hidden_grad());
    m.backward();
    opt_a.step(adapter.params(), adapter.grads(), 1e-2, 1.0f);
    opt_h.step(head.params(), head.grads(), 1e-2, 1.0f);
  }
  EXPECT_GT(margin(), before + 1.0);
  double moved = 0;
  for (auto& e : adapter.table().entries())
    if (e.name.ends_with("lora_B.weight"))
      for (int64_t i = 0; i < e.numel; ++i) moved += std::fabs(adapter.params()[e.offset + i]);
  EXPECT_GT(moved, 0) << "the adapter trained through hidden_grad()";
}
