// The decode thread tuner: it settles on the faster choice per bucket of row
// counts, keeps checking the other, follows a change of the machine's state,
// leaves large steps alone, and never changes what the engine generates.
#include <gtest/gtest.h>

#include <omp.h>

#include <limits>

#include "core/random.h"
#include "infer/engine.h"
#include "infer/thread_tuner.h"
#include "model/transformer.h"

using namespace shog;

namespace {

// Steps of `rows` rows timed by `seconds(threads)`; returns how many of
// `steps` ran on one thread.
int64_t run_steps(ThreadTuner& t, int64_t rows, int64_t steps, double one, double all) {
  int64_t on_one = 0;
  for (int64_t i = 0; i < steps; ++i) {
    const int k = t.pick(rows);
    EXPECT_TRUE(k == 1 || k == 4) << k;
    on_one += k == 1;
    t.record(rows, k, (k == 1 ? one : all) * double(rows));
  }
  return on_one;
}

}  // namespace

TEST(ThreadTuner, NothingToChooseOrTooManyRows) {
  ThreadTuner single(1);
  EXPECT_EQ(single.pick(1), 0);
  ThreadTuner t(4);
  EXPECT_EQ(t.pick(0), 0);
  EXPECT_EQ(t.pick(17), 0);   // beyond the few-row kernel: prefill keeps the caller's count
  EXPECT_EQ(t.pick(512), 0);
  EXPECT_NE(t.pick(16), 0);
}

TEST(ThreadTuner, SettlesOnTheFasterChoiceAndKeepsCheckingTheOther) {
  ThreadTuner t(4);
  // One thread 3x faster per row: after the warm-up nearly every step is on one.
  const int64_t n = 320;
  const int64_t on_one = run_steps(t, 1, n, 1e-4, 3e-4);
  EXPECT_GE(on_one, n - ThreadTuner::kWarmup - n / ThreadTuner::kExploreEvery - 1);
  EXPECT_LT(on_one, n);  // the other choice is still tried now and then
  EXPECT_NEAR(t.seconds_per_row(1, 1), 1e-4, 1e-9);
  EXPECT_NEAR(t.seconds_per_row(1, 4), 3e-4, 1e-9);
  // Another bucket learns on its own: at 16 rows all threads are faster.
  const int64_t on_one_16 = run_steps(t, 16, n, 2e-4, 1e-4);
  EXPECT_LE(on_one_16, ThreadTuner::kWarmup + n / ThreadTuner::kExploreEvery + 1);
  EXPECT_EQ(t.pick(1), 1);  // the 1-row bucket kept its choice
}

TEST(ThreadTuner, FollowsAChangeOfTheMachinesState) {
  ThreadTuner t(4);
  run_steps(t, 2, 200, 1e-4, 3e-4);  // one thread wins while the other core is busy
  // The other core frees up: all threads become faster. The exploring steps
  // see it, and within a few exploration rounds the choice flips.
  run_steps(t, 2, 20 * ThreadTuner::kExploreEvery, 1e-4, 0.3e-4);
  // Of the next kExploreEvery steps only the exploring one stays on one thread.
  EXPECT_EQ(run_steps(t, 2, ThreadTuner::kExploreEvery, 1e-4, 0.3e-4), 1);
}

// The other choice is tried less often the slower it is, so that trying it
// costs about kExploreCost of the time: every 32 steps at 1.1x, every 72 at
// 1.72x (16 rows on one thread of two, in the server), every 200 at 3x, and
// never less often than every kExploreMaxEvery steps.
TEST(ThreadTuner, TriesASlowerChoiceLessOften) {
  EXPECT_EQ(ThreadTuner::explore_interval(1.1), ThreadTuner::kExploreEvery);
  EXPECT_NEAR(double(ThreadTuner::explore_interval(1.72)), 72, 1);
  EXPECT_NEAR(double(ThreadTuner::explore_interval(3.0)), 200, 1);
  EXPECT_EQ(ThreadTuner::explore_interval(50.0), ThreadTuner::kExploreMaxEvery);
  EXPECT_EQ(ThreadTuner::explore_interval(std::numeric_limits<double>::infinity()), ThreadTuner::kExploreMaxEvery);
  // In use: 16 rows, all threads 1.72x faster per row than one.
  ThreadTuner t(4);
  const int64_t n = 7200;
  const int64_t on_one = run_steps(t, 16, n, 1.72e-4, 1e-4);
  const int64_t explored = on_one - ThreadTuner::kWarmup;
  EXPECT_GE(explored, n / 73 - 1);
  EXPECT_LE(explored, n / 71 + 1);
  // The cost of trying: about 1% of the time, where every 32 steps was 2.2%.
  const double cost = double(explored) * 0.72e-4 / (double(n) * 1e-4);
  EXPECT_LT(cost, 1.5 * ThreadTuner::kExploreCost);
}

// Every product of a tuned step runs through kernels in which each output
// element is computed by one thread, so the tuner's choices change no token
// and no log-prob: the same requests with tuning on and off agree exactly.
TEST(ThreadTuner, EngineResultsAreTheSameWithAndWithoutTuning) {
  ModelConfig c = model_preset("small");
  c.n_layer = 2;
  Transformer m(c);
  m.init_weights(5, 0.1f);
  auto run = [&](bool adapt) {
    const int before = omp_get_max_threads();
    omp_set_num_threads(2);
    EngineOptions o;
    o.max_batch = 6, o.prefill_chunk = 24, o.adapt_threads = adapt;
    Engine eng(m, nullptr, o);
    std::vector<RequestId> ids;
    for (int i = 0; i < 8; ++i) {
      Rng rng(40 + uint64_t(i));
      std::vector<int32_t> prompt;
      for (int k = 0; k < 5 + 7 * i; ++k) prompt.push_back(int32_t(rng.below(uint64_t(c.vocab))));
      GenerationRequest r;
      r.prompt = prompt;
      r.params.temperature = i % 2 ? 0.0f : 0.8f, r.params.seed = uint64_t(i), r.params.max_new_tokens = 20 + i;
      ids.push_back(eng.add(std::move(r)));
    }
    eng.run_until_done();
    std::vector<GenerationResult> out;
    for (auto id : ids) out.push_back(eng.take_result(id));
    omp_set_num_threads(before);
    return out;
  };
  const auto a = run(false), b = run(true);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].tokens.size(), b[i].tokens.size()) << "request " << i;
    for (size_t k = 0; k < a[i].tokens.size(); ++k) {
      EXPECT_EQ(a[i].tokens[k].token, b[i].tokens[k].token) << "request " << i << " token " << k;
      EXPECT_EQ(a[i].tokens[k].logprob, b[i].tokens[k].logprob) << "request " << i << " token " << k;
    }
  }
}
