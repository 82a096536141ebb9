// Bradley-Terry, DPO (sigmoid, with label smoothing) and IPO losses and their
// gradients against PyTorch autograd (tests/oracle/preference_ref.py), and
// against central finite differences of our own loss.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "align/preference_loss.h"
#include "core/file_io.h"
#include "data/test_dir.h"

namespace shog {
namespace {

nlohmann::json run_oracle(const nlohmann::json& cases) {
  testing::TempDir d;
  write_file_atomic(d.file("cases.json"), cases.dump());
  std::string cmd = fmt::format("/usr/bin/python3 {}/tests/oracle/preference_ref.py < {} > {}", SHOG_SOURCE_DIR,
                                d.file("cases.json"), d.file("out.json"));
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return nlohmann::json::parse(read_file(d.file("out.json")));
}

PairLoss ours(const nlohmann::json& c) {
  const std::string k = c["kind"];
  if (k == "bt") return bradley_terry_loss(c["a"], c["b"], c["margin"]);
  return dpo_loss(k == "ipo" ? DpoLossKind::ipo : DpoLossKind::sigmoid, c["beta"], c.value("eps", 0.0), c["a"],
                  c["b"], c["ref_a"], c["ref_b"]);
}

TEST(PreferenceLoss, MatchesPyTorchAutograd) {
  std::mt19937 rng(7);
  std::normal_distribution<double> nd(0, 1);
  nlohmann::json cases = nlohmann::json::array();
  for (int i = 0; i < 40; ++i) {
    const double scale = i < 30 ? 3 : 60;  // large differences test the stable log-sigmoid
    cases.push_back({{"kind", "bt"}, {"a", scale * nd(rng)}, {"b", scale * nd(rng)}, {"margin", i % 3 * 0.5}});
    cases.push_back({{"kind", "sigmoid"}, {"a", -20 + scale * nd(rng)}, {"b", -20 + scale * nd(rng)},
                     {"ref_a", -20 + 3 * nd(rng)}, {"ref_b", -20 + 3 * nd(rng)}, {"beta", 0.05 + 0.1 * (i % 4)},
                     {"eps", i % 2 ? 0.1 : 0.0}});
    cases.push_back({{"kind", "ipo"}, {"a", -20 + 3 * nd(rng)}, {"b", -20 + 3 * nd(rng)},
                     {"ref_a", -20 + 3 * nd(rng)}, {"ref_b", -20 + 3 * nd(rng)}, {"beta", 0.1 + 0.2 * (i % 3)}});
  }
  auto ref = run_oracle(cases);
  ASSERT_EQ(ref.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    PairLoss p = ours(cases[i]);
    const double l = ref[i]["loss"], da = ref[i]["da"], db = ref[i]["db"];
    EXPECT_NEAR(p.loss, l, 1e-9 * std::max(1.0, std::abs(l))) << cases[i].dump();
    EXPECT_NEAR(p.d_first, da, 1e-9 * std::max(1.0, std::abs(da))) << cases[i].dump();
    EXPECT_NEAR(p.d_second, db, 1e-9 * std::max(1.0, std::abs(db))) << cases[i].dump();
  }
}

TEST(PreferenceLoss, GradientsMatchFiniteDifferences) {
  const double h = 1e-5;
  for (const char* kind : {"bt", "sigmoid", "ipo"}) {
    nlohmann::json c = {{"kind", kind}, {"a", -3.1}, {"b", -2.2}, {"ref_a", -2.9}, {"ref_b", -2.5},
                        {"beta", 0.3}, {"eps", 0.1}, {"margin", 0.25}};
    PairLoss p = ours(c);
    for (const char* key : {"a", "b"}) {
      nlohmann::json up = c, down = c;
      up[key] = c[key].get<double>() + h;
      down[key] = c[key].get<double>() - h;
      const double fd = (ours(up).loss - ours(down).loss) / (2 * h);
      EXPECT_NEAR(std::string(key) == "a" ? p.d_first : p.d_second, fd, 1e-7) << kind << " " << key;
    }
  }
}

TEST(PreferenceLoss, StableForLargeDifferences) {
  EXPECT_NEAR(bradley_terry_loss(0, 800).loss, 800, 1e-9);
  EXPECT_NEAR(bradley_terry_loss(800, 0).loss, 0, 1e-12);
  EXPECT_TRUE(std::isfinite(dpo_loss(DpoLossKind::sigmoid, 1, 0, -1e4, 0, 0, 0).loss));
}

}  // namespace
}  // namespace shog
