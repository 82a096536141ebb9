// The PPO trainer on a tiny random model: a head on the policy's body sends
// both gradients into the body; PPO raises a toy reward while the adaptive
// controller holds the KL near its target (and without the KL term the
// policy drifts much further); a NaN loss stops the run with nothing saved.
#include "align/ppo.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include "align/value_model.h"
#include "core/error.h"
#include "core/file_io.h"
#include "align/rl_toy_fixture.h"

namespace shog {
namespace {

TEST(ValueModel, HeadOnThePolicyAddsItsGradientToTheLogprobGradient) {
  // forward; value backward; logprob backward must give the body the sum of
  // the two gradients taken alone: nothing between them zeroes hidden_grad.
  Transformer m(evaltest::tiny_config());
  m.init_weights(3, 0.1f);
  ValueModel vm(m);
  vm.head().init(4, 0.3f);  // nonzero W: the head's share reaches the body
  const int64_t B = 2, T = 12;
  std::mt19937 rng(1);
  PackedBatch b;
  b.B = B, b.T = T;
  for (int64_t i = 0; i < B * T; ++i)
    b.inputs.push_back(int32_t(rng() % 500)), b.targets.push_back(int32_t(rng() % 500));
  std::vector<int64_t> rows{3, 4, 5, 14, 20};
  std::vector<float> dv{0.5f, -1, 0.25f, 2, -0.75f}, g(size_t(B * T), 0.0f);
  for (int64_t r : rows) g[size_t(r)] = float(int(rng() % 7) - 3) * 0.1f;
  auto grads = [&](bool value, bool policy) {
    m.zero_grad();
    vm.zero_grad();
    m.forward(b.inputs.data(), B, T);
    vm.values(b, rows);  // head mode: reads the pass just run
    if (value) vm.backward(rows, dv);
    if (policy) m.logprob_backward(b.targets.data(), g.data());
    else m.backward();
    return std::vector<float>(m.grads(), m.grads() + m.num_floats());
  };
  const auto both = grads(true, true), value = grads(true, false), policy = grads(false, true);
  double max_err = 0, value_norm = 0, scale = 0;
  for (size_t i = 0; i < both.size(); ++i) {
    max_err = std::max(max_err, double(std::abs(both[i] - value[i] - policy[i])));
    value_norm += double(value[i]) * value[i];
    scale = std::max(scale, double(std::abs(both[i])));
  }
  EXPECT_GT(value_norm, 1e-8);  // the value loss does reach the body
  EXPECT_LT(max_err, 1e-5 * scale);
}

// A tiny random policy, prompts without checkers, and PPO settings small
// enough for a few seconds of training: 40 steps of 32 eight-token replies.
struct ToyRun {
  testing::TempDir dir;
  PpoConfig cfg;
  explicit ToyRun(const char* name) {
    // The padded vocabulary (576 ids, 563 tokens): rollouts must sample the
    // ids the tokenizer cannot decode too, or the KL estimate is biased.
    std::vector<nlohmann::json> prompts;
    for (const char* p : {"the quick brown fox", "hello world", "lazy dog", "tokenizer merges", "café", "1234",
                          "don't stop", "it's code()"})
      prompts.push_back({{"prompt", p}});
    rltoy::setup(dir, name, prompts, cfg.model, cfg.train);
    cfg.train.lr = 2e-3;
    cfg.rollouts_per_step = 32;
    cfg.max_new_tokens = 8;
    cfg.ppo_epochs = 2;
    cfg.minibatches = 2;
    cfg.init_kl_coef = 0.2;
    cfg.kl_horizon = 64;  // n / horizon = 0.5: beta moves at most 10% a step
  }
  std::vector<nlohmann::json> metrics() const { return rltoy::read_metrics(cfg.train.out_dir); }
};

// The toy reward: the letter 'a' per ten bytes of reply (about 0.4 for the
// random policy, 10 for a reply of nothing but a's).
double as_per_ten_bytes(const PromptRecord&, const std::string& reply) {
  if (reply.empty()) return 0;
  return 10.0 * double(std::count(reply.begin(), reply.end(), 'a')) / double(reply.size());
}

// beta starts at 1 here, not ToyRun's 0.2. The controller moves beta by at
// most 10% a step, and the KL starts at 0, so beta falls for as long as the
// policy has not reached the target. From 0.2 it fell to 0.03-0.07 within
// 20 steps. When the policy then found the all-'a' reply (score up to 10),
// a penalty that small could not hold it, and beta needed ~20 steps to climb
// back: the KL ran to 22-45 at target 12 in 3 of 6 seeds, and at target 6
// in 1 of 6. A 1-ulp change in SwiGLU's sigmoid was enough to move seed 1
// into that group. Starting at 1, seeds 1-6 (session 10) gave KL over the
// last 10 steps of 11.8 to 15.0 for target 12, with the score rising from
// 0.34-0.46 to 2.2-2.6, and 3.3 to 3.8 for target 3. With no KL term the
// KL reached 46 to 51.
TEST(Ppo, RaisesAToyRewardWhileTheKlStaysNearItsTarget) {
  ToyRun run("target12");
  run.cfg.init_kl_coef = 1.0;
  run.cfg.target_kl = 12;
  PpoResult r = run_ppo(run.cfg, {as_per_ten_bytes});
  auto rows = run.metrics();
  ASSERT_EQ(rows.size(), 40u);
  const double first = rltoy::mean_of(rows, "score", 0, 5), last = rltoy::mean_of(rows, "score", 35, 40);
  const double kl_end = rltoy::mean_of(rows, "kl", 30, 40);
  std::printf("target 12: score %.3f -> %.3f, KL (last 10 steps) %.3f, kl_coef %.4f\n", first, last, kl_end,
              r.kl_coef);
  EXPECT_GT(last, first + 1.0);
  EXPECT_GT(kl_end, 12 / 1.5);
  EXPECT_LT(kl_end, 12 * 1.5);
  for (const char* f : {"model.safetensors", "value_head.safetensors", "metrics.jsonl", "ppo.svg"})
    EXPECT_TRUE(file_exists(run.cfg.train.out_dir + "/" + f)) << f;
  for (const char* key : {"entropy", "explained_variance", "value_loss", "clip_fraction", "kl_coef", "generate_s",
                          "train_s"})
    EXPECT_TRUE(rows.back().contains(key)) << key;
  // A tighter target from the same start: the controller raises beta and
  // the KL settles near 3 instead.
  ToyRun tight("target3");
  tight.cfg.init_kl_coef = 1.0;
  tight.cfg.target_kl = 3;
  PpoResult r3 = run_ppo(tight.cfg, {as_per_ten_bytes});
  const double kl3 = rltoy::mean_of(tight.metrics(), "kl", 30, 40);
  std::printf("target 3: KL (last 10 steps) %.3f, kl_coef %.4f\n", kl3, r3.kl_coef);
  EXPECT_GT(kl3, 3 / 1.5);
  EXPECT_LT(kl3, 3 * 1.5);
  EXPECT_GT(r3.kl_coef, r.kl_coef);
}

TEST(Ppo, WithoutTheKlTermThePolicyDriftsFurther) {
  // beta fixed at 0: the KL the controller held near 12 goes well past it,
  // so that bound is the controller's doing.
  ToyRun run("no_kl");
  run.cfg.init_kl_coef = 0;
  run.cfg.target_kl = 0;
  run_ppo(run.cfg, {as_per_ten_bytes});
  EXPECT_GT(rltoy::mean_of(run.metrics(), "kl", 30, 40), 36.0);
}

TEST(Ppo, NanLossStopsWithoutSaving) {
  ToyRun run("nan");
  run.cfg.train.steps = 2;
  auto nan_reward = [](const PromptRecord&, const std::string&) { return std::nan(""); };
  try {
    run_ppo(run.cfg, {nan_reward});
    FAIL() << "a NaN reward trained on";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::numeric) << e.what();
  }
  EXPECT_FALSE(file_exists(run.cfg.train.out_dir + "/model.safetensors"));
  EXPECT_FALSE(file_exists(run.cfg.train.out_dir + "/value_head.safetensors"));
}

}  // namespace
}  // namespace shog
