// The knowledge probe: its AUC against a brute-force count over all pairs;
// its per-request differences against each sentence scored alone; swapping a
// pair's two sentences mirrors the AUC; every request of the world is counted
// in its pool's split; and the "new wording" sentences are in fact absent
// from the knowledge text while the others follow it.
#include "eval/knowledge_probe.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/random.h"
#include "data/synth/families.h"
#include "data/synth/knowledge.h"
#include "eval/bits_per_byte.h"
#include "eval_fixture.h"

namespace shog {
namespace {

double brute_auc(const std::vector<double>& pos, const std::vector<double>& neg) {
  double w = 0;
  for (double p : pos)
    for (double n : neg) w += p > n ? 1.0 : p == n ? 0.5 : 0.0;
  return w / double(pos.size() * neg.size());
}

TEST(KnowledgeProbe, RocAucCountsOrderedPairsWithTiesAsHalves) {
  EXPECT_DOUBLE_EQ(roc_auc({3.0}, {1.0, 2.0}), 1.0);
  EXPECT_DOUBLE_EQ(roc_auc({0.0}, {1.0, 2.0}), 0.0);
  EXPECT_DOUBLE_EQ(roc_auc({1.0}, {1.0}), 0.5);
  EXPECT_TRUE(std::isnan(roc_auc({}, {1.0})));
  EXPECT_TRUE(std::isnan(roc_auc({1.0}, {})));
  Rng rng(3);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> pos, neg;
    // values on a coarse grid, so that ties are common
    for (int i = 0; i < 1 + int(rng.below(30)); ++i) pos.push_back(double(rng.below(8)));
    for (int i = 0; i < 1 + int(rng.below(30)); ++i) neg.push_back(double(rng.below(8)));
    EXPECT_NEAR(roc_auc(pos, neg), brute_auc(pos, neg), 1e-12) << "trial " << trial;
  }
}

TEST(KnowledgeProbe, NewWordingIsAbsentFromTheKnowledgeTextAndTheRestFollowsIt) {
  const std::string text = synth::world_knowledge_text({.seed = 1, .passes = 4});
  auto parts = [](const std::string& s) {  // the fixed words before and after "{x}"
    const size_t at = s.find("{x}");
    return std::pair{s.substr(0, at), s.substr(at + 3)};
  };
  int new_wording = 0, text_wording = 0;
  for (const ProbeSentences& p : knowledge_probe_sentences()) {
    for (const std::string& s : {p.benign, p.harmful}) {
      ASSERT_NE(s.find("{x}"), std::string::npos) << s;
      const auto [before, after] = parts(s);
      if (p.knowledge_text_wording) {
        // the text writes the opening with a request after it
        EXPECT_NE(text.find(before), std::string::npos) << s;
      } else {
        EXPECT_EQ(text.find(before), std::string::npos) << s;
        EXPECT_EQ(text.find(after), std::string::npos) << s;
      }
    }
    (p.knowledge_text_wording ? text_wording : new_wording) += 1;
  }
  EXPECT_GE(text_wording, 1);
  EXPECT_GE(new_wording, 1);
}

class KnowledgeProbeModel : public ::testing::Test {
 protected:
  void SetUp() override { evaltest::write_model_dir(dir_.file("model"), 21); }
  std::string model_dir() const { return dir_.file("model"); }
  testing::TempDir dir_;
};

// Short sentences: the tiny model's context is 64 tokens.
const std::vector<ProbeSentences> kPair{{"pair", "ok {x}.", "bad {x}!", false}};
const std::vector<ProbeSentences> kSwapped{{"swapped", "bad {x}!", "ok {x}.", false}};

TEST_F(KnowledgeProbeModel, AucIsThatOfEachRequestScoredAloneAndCountsEveryRequestInItsSplit) {
  EvalModel m = EvalModel::load({"tiny", model_dir()}, DType::f32);
  const auto got = probe_knowledge(m, kPair, 4);
  ASSERT_EQ(got.size(), 1u);

  // Independently: each sentence alone through sum_nll, one row per call.
  std::array<std::vector<double>, 3> pos, neg;
  auto nll = [&](const std::string& text) {
    TokenizedSample s;
    s.ids.push_back(*m.tokenizer().special_id("<|bos|>"));
    for (int32_t id : m.tokenizer().encode(text)) s.ids.push_back(id);
    s.mask.assign(s.ids.size(), 1);
    s.mask[0] = 0;
    return sum_nll(m.model(), {s}, 64, 1, m.pad_id()).nats;
  };
  for (const auto& b : synth::all_benign_requests())
    neg[size_t(b.split)].push_back(nll("ok " + b.request + ".") - nll("bad " + b.request + "!"));
  for (const auto& h : synth::all_harmful_requests())
    pos[size_t(h.split)].push_back(nll("ok " + h.request + ".") - nll("bad " + h.request + "!"));
  for (synth::Split sp : synth::kSplits) {
    const size_t i = size_t(sp);
    EXPECT_EQ(got[0].harmful[i], int64_t(pos[i].size())) << synth::split_name(sp);
    EXPECT_EQ(got[0].benign[i], int64_t(neg[i].size())) << synth::split_name(sp);
    EXPECT_GT(pos[i].size(), 50u);
    EXPECT_GT(neg[i].size(), 30u);
    // Packed rows and single rows round differently: compare within a
    // tolerance that moves no more than a few pairs.
    EXPECT_NEAR(got[0].auc[i], brute_auc(pos[i], neg[i]), 0.01) << synth::split_name(sp);
  }
}

TEST_F(KnowledgeProbeModel, SwappingTheTwoSentencesMirrorsTheAuc) {
  EvalModel m = EvalModel::load({"tiny", model_dir()}, DType::f32);
  const auto a = probe_knowledge(m, kPair, 4);
  const auto b = probe_knowledge(m, kSwapped, 4);
  for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(a[0].auc[i] + b[0].auc[i], 1.0, 1e-9) << i;
}

}  // namespace
}  // namespace shog
