// The clipped surrogate, the k3 KL and group-relative advantages against
// PyTorch autograd (tests/oracle/policy_ref.py).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "align/policy_loss.h"
#include "core/file_io.h"
#include "data/test_dir.h"

namespace shog {
namespace {

TEST(PolicyLoss, MatchesPyTorchAutograd) {
  std::mt19937 rng(11);
  std::normal_distribution<double> nd(0, 1);
  nlohmann::json in = {{"surrogate", nlohmann::json::array()}, {"kl", nlohmann::json::array()}};
  for (int i = 0; i < 60; ++i) {
    const double old = -2 + nd(rng), logp = old + 0.4 * nd(rng);  // ratios on both sides of the clip range
    in["surrogate"].push_back({{"logp", logp}, {"old", old}, {"adv", nd(rng)}, {"lo", 0.2}, {"hi", i % 2 ? 0.2 : 0.28}});
    in["kl"].push_back({{"logp", logp}, {"ref", old + 0.3 * nd(rng)}});
  }
  std::vector<double> rewards;
  for (int i = 0; i < 24; ++i) rewards.push_back(i % 5 == 0 ? 1.0 : std::round(nd(rng) * 4) / 4);
  in["groups"] = {{"rewards", rewards}, {"size", 6}};
  testing::TempDir d;
  write_file_atomic(d.file("in.json"), in.dump());
  const std::string cmd = fmt::format("/usr/bin/python3 {}/tests/oracle/policy_ref.py < {} > {}", SHOG_SOURCE_DIR,
                                      d.file("in.json"), d.file("out.json"));
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto ref = nlohmann::json::parse(read_file(d.file("out.json")));
  int clipped = 0;
  for (size_t i = 0; i < in["surrogate"].size(); ++i) {
    auto& s = in["surrogate"][i];
    TokenLoss t = clipped_surrogate(s["logp"], s["old"], s["adv"], s["lo"], s["hi"]);
    EXPECT_NEAR(t.loss, ref["surrogate"][i]["loss"].get<double>(), 1e-12) << s.dump();
    EXPECT_NEAR(t.d_logp, ref["surrogate"][i]["d"].get<double>(), 1e-12) << s.dump();
    EXPECT_EQ(t.clipped, ref["surrogate"][i]["d"].get<double>() == 0.0) << s.dump();
    clipped += t.clipped;
    auto& k = in["kl"][i];
    TokenLoss kl = kl_k3(k["logp"], k["ref"]);
    EXPECT_NEAR(kl.loss, ref["kl"][i]["loss"].get<double>(), 1e-12);
    EXPECT_NEAR(kl.d_logp, ref["kl"][i]["d"].get<double>(), 1e-12);
    EXPECT_GE(kl.loss, 0);
  }
  EXPECT_GT(clipped, 5);   // both branches were exercised
  EXPECT_LT(clipped, 55);
  auto scaled = group_advantages(rewards, 6, true), unscaled = group_advantages(rewards, 6, false);
  for (size_t i = 0; i < rewards.size(); ++i) {
    EXPECT_NEAR(scaled[i], ref["scaled"][i].get<double>(), 1e-9);
    EXPECT_NEAR(unscaled[i], ref["unscaled"][i].get<double>(), 1e-12);
  }
}

TEST(PolicyLoss, GroupsMustDivideRewards) {
  std::vector<double> r{1, 2, 3};
  EXPECT_THROW(group_advantages(r, 2, true), std::exception);
}

}  // namespace
}  // namespace shog
