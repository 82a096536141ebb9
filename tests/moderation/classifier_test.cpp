#include "moderation/classifier.h"

#include <omp.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/random.h"
#include "moderation/classifier_train.h"
#include "moderation/fixture.h"
#include "tokenizer/bpe_trainer.h"

namespace shog {
namespace {

namespace fs = std::filesystem;

class ClassifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / fmt::format("shog_moderation_{}_{}", info->name(), ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string file(const std::string& n) const { return (dir_ / n).string(); }

  // A 320-token BPE trained on fixture text.
  std::string tokenizer() {
    Rng rng(99);
    std::string corpus;
    for (int i = 0; i < 400; ++i) corpus += testing::fixture_line(rng).text + "\n";
    BpeTrainOptions o;
    o.vocab_size = 320;
    o.threads = 1;
    Tokenizer t = train_bpe_on_texts({corpus}, {"fixture"}, o);
    t.save(file("tok.json"));
    return file("tok.json");
  }

  fs::path dir_;
};

// A tiny classifier with random weights, for the gradient check.
std::unique_ptr<ModerationClassifier> random_classifier(const Tokenizer& tok, Pooling pooling) {
  ModelConfig c = model_preset("tiny");
  c.vocab = tok.vocab_size();
  auto body = std::make_unique<Transformer>(c);
  body->init_weights(5, 0.2f);
  LinearHead head(c.d_model, 3);
  head.init(6, 0.5f);
  ClassifierMeta m;
  m.categories = {"hate", "privacy", "elections"};
  m.pooling = pooling;
  m.max_seq = 32;
  return std::make_unique<ModerationClassifier>(std::move(body), std::move(head), tok, m);
}

TEST_F(ClassifierTest, PooledBackwardMatchesFiniteDifferences) {
  omp_set_num_threads(1);  // tiny shapes: threads only add overhead
  Tokenizer tok = Tokenizer::load(tokenizer());
  for (Pooling pooling : {Pooling::mean, Pooling::last}) {
    auto clf = random_classifier(tok, pooling);
    const std::vector<std::vector<int32_t>> seqs = {clf->encode("find the home address of my boss"),
                                                    clf->encode("hello"), clf->encode("those people are vermin")};
    // L = sum_i w_i logits_i with fixed weights w.
    std::vector<float> w(9);
    for (size_t i = 0; i < w.size(); ++i) w[i] = float(i % 4) - 1.5f;
    auto loss = [&] {
      std::vector<float> z;
      clf->forward(seqs, z);
      double s = 0;
      for (size_t i = 0; i < z.size(); ++i) s += double(w[i]) * z[i];
      return s;
    };
    clf->body().zero_grad();
    clf->head().zero_grad();
    loss();
    clf->backward(w, true);
    // A few parameters of the body (embedding, a layer, the final norm) and of the head.
    struct Probe {
      float* p;
      const float* g;
    };
    std::vector<Probe> probes;
    const auto& t = clf->body().table();
    for (const char* name : {"model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                             "model.layers.1.mlp.down_proj.weight", "model.norm.weight"}) {
      const ParamEntry* e = t.find(name);
      ASSERT_NE(e, nullptr) << name;
      for (int64_t j : {int64_t(3), e->numel / 2, e->numel - 5})
        probes.push_back({clf->body().params() + e->offset + j, clf->body().grads() + e->offset + j});
    }
    for (int64_t j : {int64_t(0), int64_t(70), clf->head().table().total() - 1})
      probes.push_back({clf->head().params() + j, clf->head().grads() + j});
    // Token ids actually used, so their embedding rows have a gradient.
    const ParamEntry* emb = t.find("model.embed_tokens.weight");
    probes.push_back({clf->body().params() + emb->offset + seqs[0][1] * 64 + 7,
                      clf->body().grads() + emb->offset + seqs[0][1] * 64 + 7});
    for (const auto& pr : probes) {
      const float keep = *pr.p, eps = 1e-2f;
      *pr.p = keep + eps;
      const double up = loss();
      *pr.p = keep - eps;
      const double down = loss();
      *pr.p = keep;
      const double fd = (up - down) / (2 * eps);
      EXPECT_NEAR(*pr.g, fd, 2e-2 + 2e-2 * std::fabs(fd)) << pooling_name(pooling);
    }
  }
}

TEST_F(ClassifierTest, TemperatureScalingRecoversAKnownTemperature) {
  // Labels drawn from sigmoid(s); logits 3 s: the fitted temperature is ~3.
  Rng rng(7);
  ModerationDataset d;
  d.categories = {"hate"};
  std::vector<float> logits;
  for (int i = 0; i < 6000; ++i) {
    const double s = (double(rng.next_u64() % 10000) / 10000.0 - 0.5) * 8;
    const double p = 1 / (1 + std::exp(-s));
    const bool y = double(rng.next_u64() % 1000000) / 1e6 < p;
    d.examples.push_back({"", "", "", {uint8_t(y)}});
    logits.push_back(float(3 * s));
  }
  auto t = fit_temperatures(logits, d);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_NEAR(t[0], 3.0f, 0.35f);
}

TEST_F(ClassifierTest, TrainsSavesLoadsAndScores) {
  testing::write_fixture(file("moderation_train.jsonl"), 480, 1);
  testing::write_fixture(file("moderation_val.jsonl"), 80, 2);
  testing::write_fixture(file("moderation_test.jsonl"), 120, 3);
  ClassifierTrainConfig cfg;
  cfg.data = dir_.string();
  cfg.base = "tiny";
  cfg.tokenizer = tokenizer();
  cfg.out = file("clf");
  cfg.epochs = 4;
  cfg.batch_size = 16;
  cfg.max_seq = 32;
  cfg.lr = 2e-3;
  cfg.head_lr = 1e-2;
  cfg.progress = false;
  cfg.threads = 1;  // a model this small trains fastest on one thread (and on a busy machine)
  int epochs_seen = 0;
  auto res = train_moderation_classifier(cfg, [&](const EpochReport& r) {
    ++epochs_seen;
    EXPECT_TRUE(std::isfinite(r.train_loss));
  });
  EXPECT_EQ(epochs_seen, 4);
  EXPECT_EQ(res.categories, testing::fixture_categories());
  EXPECT_LT(res.epochs.back().train_loss, res.epochs.front().train_loss);
  EXPECT_EQ(res.temperature.size(), 4u);

  auto clf = ModerationClassifier::load(cfg.out);
  auto test = read_moderation_data(file("moderation_test.jsonl"), clf->categories());
  auto ev = evaluate_classifier(*clf, test, 0.5f);
  EXPECT_GE(ev.micro_f1, 0.9) << ev.to_table();
  EXPECT_LE(ev.overflag_rate(), 0.1) << ev.to_table();
  ASSERT_TRUE(ev.benign_by_kind.count("benign_scary"));
  for (const auto& m : ev.per_category) EXPECT_GT(m.support(), 0) << m.category;

  // A loaded classifier scores exactly as evaluated; long text goes in windows.
  const std::string bad = "tell me how to attack my boss tonight without getting caught";
  auto s = clf->score(bad);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_GT(s[0], 0.5f);
  EXPECT_LT(s[2], 0.5f);
  std::string longer;
  for (int i = 0; i < 12; ++i) longer += "please write a poem about my cousin soon. ";
  EXPECT_LT(clf->score(longer)[0], 0.5f);
  EXPECT_GT(clf->score(longer + bad)[0], 0.5f);  // the bad part is past the first window
}

TEST_F(ClassifierTest, DataErrorsNameTheLine) {
  std::ofstream(file("bad.jsonl")) << "{\"text\": \"ok\", \"labels\": {\"hate\": 0}}\n"
                                   << "{\"text\": \"x\", \"labels\": {\"hate\": 2}}\n";
  try {
    read_moderation_data(file("bad.jsonl"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    EXPECT_NE(e.where().find("bad.jsonl:2"), std::string::npos) << e.where();
  }
  EXPECT_THROW(ModerationClassifier::load(file("nothing")), Error);
}

}  // namespace
}  // namespace shog
