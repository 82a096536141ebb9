// Refusal propensity: the AUC, sampled rates and best threshold of fixed
// propensities, by hand and against a brute-force search over every
// threshold a K-sample propensity can take; and on a model, that greedy
// sampling gives each prompt the judge's verdict on its greedy reply, that
// helpful prompts are skipped and every request is drawn K times, and that
// a set of prompts without both kinds is refused before anything runs.
#include "eval/refusal_propensity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/error.h"
#include "core/random.h"
#include "eval_fixture.h"

namespace shog {
namespace {

TEST(RefusalPropensity, ByHand) {
  // thresholds 0, 0.25, 0.5, 1: larger error 1, 0.5, 1/3, 2/3
  RefusalPropensity r = separate_refusals({1.0, 0.5, 0.25}, {0.0, 0.25}, 4);
  EXPECT_DOUBLE_EQ(r.auc, 5.5 / 6.0);  // the 0.25 tie counts half
  EXPECT_DOUBLE_EQ(r.harmful_compliance_sampled, 1.0 - 1.75 / 3.0);
  EXPECT_DOUBLE_EQ(r.over_refusal_sampled, 0.125);
  EXPECT_DOUBLE_EQ(r.best.refuse_at, 0.5);
  EXPECT_DOUBLE_EQ(r.best.harmful_compliance, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.best.over_refusal, 0.0);
  EXPECT_EQ(r.samples, 4);
  EXPECT_EQ(r.harmful.size(), 3u);
  // A model that refuses everything alike: the best rule refuses everything.
  RefusalPropensity flat = separate_refusals({0.5, 0.5}, {0.5}, 2);
  EXPECT_DOUBLE_EQ(flat.auc, 0.5);
  EXPECT_DOUBLE_EQ(flat.best.harmful_compliance, 0.0);
  EXPECT_DOUBLE_EQ(flat.best.over_refusal, 1.0);
  // Perfect separation reaches zero on both.
  RefusalPropensity sep = separate_refusals({0.75, 1.0}, {0.0, 0.5}, 4);
  EXPECT_DOUBLE_EQ(sep.auc, 1.0);
  EXPECT_DOUBLE_EQ(sep.best.harmful_compliance + sep.best.over_refusal, 0.0);
  EXPECT_THROW(separate_refusals({}, {0.5}, 1), Error);
  EXPECT_THROW(separate_refusals({0.5}, {}, 1), Error);
}

TEST(RefusalPropensity, BestThresholdMatchesABruteForceOverEveryGridPoint) {
  Rng rng(11);
  for (int trial = 0; trial < 50; ++trial) {
    const int K = 1 + int(rng.below(8));
    std::vector<double> h, b;
    for (int i = 0; i < 1 + int(rng.below(20)); ++i) h.push_back(double(rng.below(K + 1)) / K);
    for (int i = 0; i < 1 + int(rng.below(20)); ++i) b.push_back(double(rng.below(K + 1)) / K);
    double best = 2;
    for (int k = 0; k <= K + 1; ++k) {  // k = K + 1: never refuse, which can be no better
      const double t = double(k) / K;
      double hc = 0, orr = 0;
      for (double p : h) hc += p < t - 1e-12;
      for (double p : b) orr += p >= t - 1e-12;
      best = std::min(best, std::max(hc / double(h.size()), orr / double(b.size())));
    }
    RefusalPropensity r = separate_refusals(h, b, K);
    EXPECT_NEAR(std::max(r.best.harmful_compliance, r.best.over_refusal), best, 1e-12) << "trial " << trial;
  }
}

std::vector<TestPrompt> request_prompts() {
  std::vector<TestPrompt> ps;
  const char* texts[] = {"the quick brown fox", "hello world", "tokenizer merges pairs", "lazy dog jumps",
                         "don't stop", "1234"};
  const PromptKind kinds[] = {PromptKind::harmful, PromptKind::benign, PromptKind::helpful, PromptKind::harmful,
                              PromptKind::benign, PromptKind::benign};
  for (int i = 0; i < 6; ++i) {
    TestPrompt p;
    p.where = "p.jsonl:" + std::to_string(i + 1);
    p.prompt = {{ChatRole::user, texts[i]}};
    p.kind = kinds[i];
    ps.push_back(p);
  }
  return ps;
}

TEST(RefusalPropensity, GreedySamplesGiveEachPromptTheVerdictOnItsGreedyReply) {
  testing::TempDir d;
  evaltest::write_model_dir(d.file("m"), 2, 0.3f);
  EvalModel m = EvalModel::load({"m", d.file("m")}, DType::f32);
  const auto ps = request_prompts();
  const auto judge = [](const std::string& reply) { return reply.find('e') != std::string::npos; };
  const auto greedy = generate_replies(m, ps, {12, 8, DType::f32});
  RefusalPropensityOptions o;
  o.samples = 3;
  o.replies.temperature = 0;
  o.replies.max_new_tokens = 12;
  RefusalPropensity r = measure_refusal_propensity(m, ps, o, judge);
  std::vector<double> h, b;
  for (size_t i = 0; i < ps.size(); ++i)
    if (ps[i].kind != PromptKind::helpful)
      (ps[i].kind == PromptKind::harmful ? h : b).push_back(judge(greedy[i].text) ? 1.0 : 0.0);
  EXPECT_EQ(r.harmful, h);
  EXPECT_EQ(r.benign, b);
}

TEST(RefusalPropensity, EveryRequestIsSampledKTimesAndHelpfulPromptsAreSkipped) {
  testing::TempDir d;
  evaltest::write_model_dir(d.file("m"), 2, 0.3f);
  EvalModel m = EvalModel::load({"m", d.file("m")}, DType::f32);
  const auto ps = request_prompts();
  std::vector<std::string> seen;
  const auto judge = [&](const std::string& reply) {
    seen.push_back(reply);
    return seen.size() % 2 == 0;
  };
  RefusalPropensityOptions o;
  o.samples = 4;
  o.replies.max_new_tokens = 12;
  RefusalPropensity r = measure_refusal_propensity(m, ps, o, judge);
  ASSERT_EQ(seen.size(), 5u * 4u);  // five requests, four draws each
  EXPECT_EQ(r.harmful, (std::vector<double>{0.5, 0.5}));  // every other reply "refused"
  EXPECT_EQ(r.benign, (std::vector<double>{0.5, 0.5, 0.5}));
  for (size_t p = 0; p < 5; ++p)  // a prompt's four draws are not all the same reply
    EXPECT_GT(std::set<std::string>(seen.begin() + long(4 * p), seen.begin() + long(4 * p + 4)).size(), 1u) << p;
  // Again with the same seed: the same replies.
  std::vector<std::string> first = seen;
  seen.clear();
  measure_refusal_propensity(m, ps, o, judge);
  EXPECT_EQ(seen, first);
}

TEST(RefusalPropensity, PromptsWithoutBothKindsAreRefusedBeforeGenerating) {
  testing::TempDir d;
  evaltest::write_model_dir(d.file("m"), 2);
  EvalModel m = EvalModel::load({"m", d.file("m")}, DType::f32);
  auto ps = request_prompts();
  std::vector<TestPrompt> harmful_only;
  for (const auto& p : ps)
    if (p.kind == PromptKind::harmful) harmful_only.push_back(p);
  int judged = 0;
  const auto judge = [&](const std::string&) { return ++judged > 0; };
  EXPECT_THROW(measure_refusal_propensity(m, harmful_only, {}, judge), Error);
  RefusalPropensityOptions zero;
  zero.samples = 0;
  EXPECT_THROW(measure_refusal_propensity(m, ps, zero, judge), Error);
  EXPECT_EQ(judged, 0);
}

}  // namespace
}  // namespace shog
