// The GRPO trainer on a tiny random model: on a task the synthetic world's
// checker decides (say one of two words the prompt names), every loss
// variant raises the share of correct replies from a few percent to about
// half; a NaN reward stops the run with nothing saved.
#include "align/grpo.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"
#include "align/rl_toy_fixture.h"

namespace shog {
namespace {

// A tiny random policy and eight prompts, each asking for one of two words
// of the tokenizer's corpus and carrying a "keywords" checker for them: a
// reply is correct when one of the two appears as a word (and it is no
// refusal, at most 60 words). The random policy writes one of a prompt's
// words in about 3% of its eight-token replies, enough for groups of 8 to
// hold a correct reply now and then. 40 steps of 8 prompts x 8 replies, about
// 2 s on one thread.
struct ToyRun {
  testing::TempDir dir;
  GrpoConfig cfg;
  explicit ToyRun(const std::string& name) {
    const std::pair<const char*, std::vector<std::string>> tasks[] = {
        {"say hello or world", {"hello", "world"}}, {"say lazy or dog", {"lazy", "dog"}},
        {"say code or merges", {"code", "merges"}}, {"say brown or fox", {"brown", "fox"}},
        {"say world or code", {"world", "code"}},   {"say merges or lazy", {"merges", "lazy"}},
        {"say hello or fox", {"hello", "fox"}},     {"say dog or brown", {"dog", "brown"}}};
    std::vector<nlohmann::json> prompts;
    for (const auto& [prompt, words] : tasks) {
      nlohmann::json checker = {{"kind", "helpful"}, {"task", "echo"}, {"match", "keywords"}, {"keywords", words}};
      prompts.push_back({{"prompt", prompt}, {"checker", checker}});
    }
    rltoy::setup(dir, name, prompts, cfg.model, cfg.train);
    cfg.train.lr = 4e-3;
    cfg.group_size = 8;
    cfg.prompts_per_step = 8;
    cfg.max_new_tokens = 8;
  }
  std::vector<nlohmann::json> metrics() const { return rltoy::read_metrics(cfg.train.out_dir); }
};

// Accuracy is the checker's share of correct replies in a step ("accuracy"
// in metrics.jsonl), averaged over the first and the last 5 of 40 steps.
// Measured (train.seed 1-4; seed 1 runs the same on 1, 2 and 4 threads):
//   grpo     0.019-0.034 -> 0.491-0.828
//   dr_grpo  0.022-0.044 -> 0.478-0.841
//   dapo     0.025-0.034 -> 0.612-0.900
// Broken on purpose (seed 1), every loss fails here: with the advantage's
// sign flipped the accuracy goes 0.025 -> 0.003-0.006, with the advantages
// zeroed 0.031 -> 0.022.
TEST(Grpo, RaisesAccuracyOnACheckableToyTask) {
  for (const char* loss : {"grpo", "dr_grpo", "dapo"}) {
    SCOPED_TRACE(loss);
    ToyRun run(loss);
    run.cfg.loss = loss;
    GrpoResult r = run_grpo(run.cfg);
    auto rows = run.metrics();
    ASSERT_EQ(rows.size(), 40u);
    const double first = rltoy::mean_of(rows, "accuracy", 0, 5), last = rltoy::mean_of(rows, "accuracy", 35, 40);
    std::printf("%s: accuracy %.3f -> %.3f, reward %.3f -> %.3f, %.2f s\n", loss, first, last, r.first_reward,
                r.final_reward, r.seconds);
    EXPECT_LT(first, 0.1);
    EXPECT_GT(last, first + 0.3);
    EXPECT_GT(r.final_reward, r.first_reward);
    EXPECT_DOUBLE_EQ(r.final_accuracy, rows.back()["accuracy"].get<double>());
    for (const char* f : {"model.safetensors", "metrics.jsonl", "grpo.svg"})
      EXPECT_TRUE(file_exists(run.cfg.train.out_dir + "/" + f)) << f;
  }
}

// A NaN reward makes the advantages and the loss NaN: the loss check stops
// the first step (the optimizer's gradient-norm check is a second line).
TEST(Grpo, NanRewardStopsWithoutSaving) {
  ToyRun run("nan");
  run.cfg.train.steps = 2;
  auto nan_reward = [](const PromptRecord&, const std::string&) { return std::nan(""); };
  try {
    run_grpo(run.cfg, {nan_reward});
    FAIL() << "a NaN reward trained on";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::numeric) << e.what();
  }
  EXPECT_FALSE(file_exists(run.cfg.train.out_dir + "/model.safetensors"));
}

}  // namespace
}  // namespace shog
