// PPO's scalar pieces (align/ppo_math.h) against PyTorch
// (tests/oracle/policy_ref.py: GAE as a discount matrix, the value loss's
// gradient by autograd) and the value loss's gradient against finite
// differences.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "align/ppo_math.h"
#include "core/file_io.h"
#include "data/test_dir.h"

namespace shog {
namespace {

nlohmann::json run_oracle(const nlohmann::json& in) {
  testing::TempDir d;
  write_file_atomic(d.file("in.json"), in.dump());
  const std::string cmd = fmt::format("/usr/bin/python3 {}/tests/oracle/policy_ref.py < {} > {}", SHOG_SOURCE_DIR,
                                      d.file("in.json"), d.file("out.json"));
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return nlohmann::json::parse(read_file(d.file("out.json")))["ppo"];
}

std::vector<double> doubles(const nlohmann::json& j) { return j.get<std::vector<double>>(); }

TEST(PpoMath, MatchesPyTorch) {
  std::mt19937 rng(23);
  std::normal_distribution<double> nd(0, 1);
  std::uniform_int_distribution<int> len(1, 12);
  nlohmann::json p = {{"shaped", nlohmann::json::array()}, {"gae", nlohmann::json::array()},
                      {"value", nlohmann::json::array()}};
  std::vector<std::vector<float>> logps, refs;
  for (int i = 0; i < 6; ++i) {
    std::vector<float> lp, rf;
    for (int t = 0, n = len(rng); t < n; ++t)
      lp.push_back(float(-2 + nd(rng))), rf.push_back(float(lp.back() + 0.5 * nd(rng)));
    logps.push_back(lp), refs.push_back(rf);
    p["shaped"].push_back({{"logp", lp}, {"ref", rf}, {"score", 2 * nd(rng)}, {"coef", 0.05 * (i + 1)}});
  }
  const double gl[][2] = {{1, 1}, {1, 0.95}, {0.9, 0.95}, {0.99, 0}, {0.5, 0.7}, {1, 0.95}, {0.95, 1}, {0, 0.5}};
  for (auto& [g, l] : gl) {
    std::vector<double> r, v;
    for (int t = 0, n = len(rng); t < n; ++t) r.push_back(0.3 * nd(rng)), v.push_back(nd(rng));
    r.back() += 2;
    p["gae"].push_back({{"rewards", r}, {"values", v}, {"gamma", g}, {"lam", l}});
  }
  std::vector<double> wx;
  for (int i = 0; i < 30; ++i) wx.push_back(3 + 2 * nd(rng));
  p["whiten"] = wx;
  for (int i = 0; i < 80; ++i) {
    const double old = nd(rng), v = old + 0.4 * nd(rng), ret = old + nd(rng);
    p["value"].push_back({{"v", v}, {"old", old}, {"ret", ret}, {"eps", 0.2}});
  }
  std::vector<double> pred, target;
  for (int i = 0; i < 40; ++i) target.push_back(nd(rng)), pred.push_back(0.7 * target.back() + 0.3 * nd(rng));
  p["ev"] = {{"pred", pred}, {"target", target}};
  const std::vector<double> kls{1, 3, 5.9, 6.1, 9, 20, 0.5, 6, 7.2, 2};
  p["kl_ctl"] = {{"init", 0.2}, {"target", 6.0}, {"horizon", 100.0}, {"kl", kls},
                 {"n", std::vector<int>(kls.size(), 16)}};
  const nlohmann::json ref = run_oracle({{"ppo", p}});

  for (size_t i = 0; i < logps.size(); ++i) {
    auto& s = p["shaped"][i];
    auto r = kl_shaped_rewards(logps[i], refs[i], s["score"], s["coef"]);
    auto want = doubles(ref["shaped"][i]);
    ASSERT_EQ(r.size(), want.size());
    for (size_t t = 0; t < r.size(); ++t) EXPECT_NEAR(r[t], want[t], 1e-12);
  }
  for (size_t i = 0; i < p["gae"].size(); ++i) {
    auto& s = p["gae"][i];
    GaeResult g = gae(doubles(s["rewards"]), doubles(s["values"]), s["gamma"], s["lam"]);
    auto adv = doubles(ref["gae"][i]["adv"]), ret = doubles(ref["gae"][i]["ret"]);
    ASSERT_EQ(g.advantages.size(), adv.size());
    for (size_t t = 0; t < adv.size(); ++t) {
      EXPECT_NEAR(g.advantages[t], adv[t], 1e-12) << s.dump();
      EXPECT_NEAR(g.returns[t], ret[t], 1e-12) << s.dump();
    }
  }
  auto w = whiten(wx);
  for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(w[i], ref["whiten"][i].get<double>(), 1e-12);
  int clipped = 0;
  for (size_t i = 0; i < p["value"].size(); ++i) {
    auto& s = p["value"][i];
    ValueLoss vl = clipped_value_loss(s["v"], s["old"], s["ret"], s["eps"]);
    EXPECT_NEAR(vl.loss, ref["value"][i]["loss"].get<double>(), 1e-12) << s.dump();
    EXPECT_NEAR(vl.d_value, ref["value"][i]["d"].get<double>(), 1e-12) << s.dump();
    EXPECT_EQ(vl.clipped, ref["value"][i]["d"].get<double>() == 0.0) << s.dump();
    clipped += vl.clipped;
  }
  EXPECT_GT(clipped, 8);  // both branches were exercised
  EXPECT_LT(clipped, 72);
  EXPECT_NEAR(explained_variance(pred, target), ref["ev"].get<double>(), 1e-12);
  KlController ctl(0.2, 6.0, 100.0);
  for (size_t i = 0; i < kls.size(); ++i) {
    ctl.update(kls[i], 16);
    EXPECT_NEAR(ctl.coef(), ref["kl_ctl"][i].get<double>(), 1e-12) << "update " << i;
  }
}

TEST(PpoMath, ValueLossGradientMatchesFiniteDifferences) {
  std::mt19937 rng(5);
  std::normal_distribution<double> nd(0, 1);
  const double eps = 0.2, h = 1e-6;
  int checked = 0, zero = 0;
  for (int i = 0; i < 200; ++i) {
    const double old = nd(rng), v = old + 0.4 * nd(rng), ret = old + nd(rng);
    // Away from the kinks: the clip bounds and the switch between branches.
    if (std::abs(std::abs(v - old) - eps) < 1e-3) continue;
    auto loss = [&](double x) { return clipped_value_loss(x, old, ret, eps).loss; };
    if (clipped_value_loss(v - 1e-3, old, ret, eps).clipped != clipped_value_loss(v + 1e-3, old, ret, eps).clipped)
      continue;
    const double fd = (loss(v + h) - loss(v - h)) / (2 * h);
    EXPECT_NEAR(clipped_value_loss(v, old, ret, eps).d_value, fd, 1e-6) << v << " " << old << " " << ret;
    ++checked, zero += fd == 0.0;
  }
  EXPECT_GT(checked, 150);
  EXPECT_GT(zero, 10);  // the clipped branch (no gradient) was among them
}

TEST(PpoMath, GaeWithoutDiscountIsRewardToGoMinusValue) {
  // gamma = lam = 1: A_t = sum_{s >= t} r_s - V_t, so R_t is the reward to go.
  std::vector<double> r{0.5, -0.25, 2}, v{1, 3, -1};
  GaeResult g = gae(r, v, 1, 1);
  EXPECT_DOUBLE_EQ(g.returns[0], 2.25);
  EXPECT_DOUBLE_EQ(g.returns[1], 1.75);
  EXPECT_DOUBLE_EQ(g.returns[2], 2);
  EXPECT_DOUBLE_EQ(g.advantages[1], 1.75 - 3);
  // lam = 0: one-step TD errors.
  g = gae(r, v, 0.9, 0);
  EXPECT_DOUBLE_EQ(g.advantages[0], 0.5 + 0.9 * 3 - 1);
  EXPECT_DOUBLE_EQ(g.advantages[2], 2 - -1);
}

TEST(PpoMath, KlRewardLandsOnEveryTokenAndScoreOnTheLast) {
  std::vector<float> lp{-1, -2, -0.5f}, rf{-1.5f, -2, -0.25f};
  auto r = kl_shaped_rewards(lp, rf, 3.0, 0.1);
  EXPECT_NEAR(r[0], -0.05, 1e-12);
  EXPECT_NEAR(r[1], 0, 1e-12);
  EXPECT_NEAR(r[2], 0.025 + 3.0, 1e-12);
  std::vector<float> one{-1}, one_ref{-1};
  EXPECT_DOUBLE_EQ(kl_shaped_rewards(one, one_ref, -2.0, 0.5)[0], -2.0);
}

TEST(PpoMath, FixedCoefficientNeverMovesAndAdaptiveStepIsBounded) {
  KlController fixed(0.1, 0, 1);
  fixed.update(100, 1000);
  EXPECT_EQ(fixed.coef(), 0.1);
  EXPECT_FALSE(fixed.adaptive());
  KlController up(0.1, 1, 10), down(0.1, 1, 10);
  up.update(50, 10);   // error clipped at +0.2, n / horizon = 1
  down.update(0, 10);  // error clipped at -0.2
  EXPECT_NEAR(up.coef(), 0.12, 1e-15);
  EXPECT_NEAR(down.coef(), 0.08, 1e-15);
}

TEST(PpoMath, DegenerateInputs) {
  std::vector<double> one{4};
  EXPECT_EQ(whiten(one)[0], 0);
  std::vector<double> flat{1, 1, 1}, pred{0, 1, 2};
  EXPECT_TRUE(std::isnan(explained_variance(pred, flat)));
  EXPECT_DOUBLE_EQ(explained_variance(flat, std::vector<double>{1, 2, 3}), 0.0);  // a constant: var(t - c) = var(t)
}

}  // namespace
}  // namespace shog
