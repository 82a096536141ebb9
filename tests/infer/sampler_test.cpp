// Sampler: greedy, temperature, top-k / top-p / min-p sets against a naive
// double-precision reference (full sort), empirical frequencies against the
// renormalised distribution, penalties against hand-computed logits, seeding,
// log-probs against a naive log-softmax, and validate().
//
// Statistical bound: a draw test counts N draws over the K kept tokens and
// requires Pearson's chi-square statistic (every expected count >= 5) to be
// below the 0.999 quantile of chi-square with K-1 degrees of freedom
// (Wilson-Hilferty approximation). A correct sampler passes with probability
// 0.999 per seed; the seeds are fixed, so the tests are deterministic. A sampler
// drawing from the wrong set or without renormalising gives statistics in the
// hundreds or thousands at these N.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "infer/sampler.h"

namespace shog {
namespace {

std::vector<float> randn(size_t n, uint64_t seed, double scale = 1.0) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = float(scale * rng.normal());
  return v;
}

SamplingParams params(float t, int k = 0, float p = 1.0f, float min_p = 0.0f, uint64_t seed = 1) {
  SamplingParams sp;
  sp.temperature = t;
  sp.top_k = k;
  sp.top_p = p;
  sp.min_p = min_p;
  sp.seed = seed;
  return sp;
}

int32_t argmax(const std::vector<float>& l) {
  return int32_t(std::max_element(l.begin(), l.end()) - l.begin());  // first of ties
}

// The kept set and its renormalised probabilities, by full sort in double.
std::map<int32_t, double> naive_distribution(const std::vector<float>& logits, const SamplingParams& p) {
  const size_t v = logits.size();
  std::vector<int32_t> ids(v);
  std::iota(ids.begin(), ids.end(), 0);
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  std::vector<double> w(v);
  const double mx = logits[ids[0]];
  for (size_t i = 0; i < v; i++) w[i] = std::exp((double(logits[ids[i]]) - mx) / p.temperature);
  size_t n = v;
  if (p.top_k > 0) n = std::min(n, size_t(p.top_k));
  if (p.top_p < 1.0f) {
    const double z = std::accumulate(w.begin(), w.begin() + n, 0.0);
    double cum = 0;
    for (size_t i = 0; i < n; i++) {
      cum += w[i] / z;
      if (cum >= p.top_p) {
        n = i + 1;
        break;
      }
    }
  }
  size_t m = 0;
  while (m < n && w[m] >= p.min_p * w[0]) m++;
  const double z = std::accumulate(w.begin(), w.begin() + m, 0.0);
  std::map<int32_t, double> out;
  for (size_t i = 0; i < m; i++) out[ids[i]] = w[i] / z;
  return out;
}

std::set<int32_t> kept_set(const Sampler& s) {
  auto k = s.kept_tokens();
  return {k.begin(), k.end()};
}

std::set<int32_t> keys(const std::map<int32_t, double>& m) {
  std::set<int32_t> s;
  for (auto& [k, v] : m) s.insert(k);
  return s;
}

double chi2_quantile_999(int df) {
  const double z = 3.090232, a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

// Draws n tokens; fails on a token outside `want`, and returns the chi-square
// statistic of the counts against `want` (and its 0.999 quantile in `limit`).
double draw_chi2(Sampler& s, const std::vector<float>& logits, const std::map<int32_t, double>& want, int n,
                 double* limit) {
  std::map<int32_t, int> count;
  for (int i = 0; i < n; i++) {
    const int32_t t = s.sample(logits.data(), int64_t(logits.size()), {}).token;
    EXPECT_TRUE(want.count(t)) << "token " << t << " is not in the kept set";
    count[t]++;
  }
  double stat = 0;
  for (auto& [t, p] : want) {
    const double e = n * p;
    EXPECT_GE(e, 5.0) << "test setup: expected count too small for chi-square";
    stat += (count[t] - e) * (count[t] - e) / e;
  }
  *limit = chi2_quantile_999(std::max<int>(1, int(want.size()) - 1));
  return stat;
}

// ------------------------------------------------------------------ greedy

TEST(Sampler, GreedyIsArgmax) {
  for (uint64_t seed = 0; seed < 20; seed++) {
    auto l = randn(50000, seed, 3.0);
    Sampler s(params(0.0f, 0, 1.0f, 0.0f, seed));
    auto r = s.sample(l.data(), int64_t(l.size()), {});
    EXPECT_EQ(r.token, argmax(l));
  }
}

TEST(Sampler, GreedyTiesGoToTheLowestId) {
  std::vector<float> l = {0.0f, 2.0f, 1.0f, 2.0f, 2.0f};
  Sampler s(params(0.0f));
  EXPECT_EQ(s.sample(l.data(), 5, {}).token, 1);
}

TEST(Sampler, TemperatureToZeroApproachesGreedy) {
  auto l = randn(1000, 3, 1.0);
  // The gap between the best two logits, so that at T = gap/50 the runner-up
  // has probability below e^-50 * vocab.
  auto sorted = l;
  std::sort(sorted.rbegin(), sorted.rend());
  const float gap = sorted[0] - sorted[1];
  ASSERT_GT(gap, 0.0f);
  Sampler cold(params(gap / 50.0f));
  for (int i = 0; i < 2000; i++) ASSERT_EQ(cold.sample(l.data(), 1000, {}).token, argmax(l));
  // At T = 1 the same logits do not always give the argmax: the test above can tell.
  Sampler warm(params(1.0f));
  int not_argmax = 0;
  for (int i = 0; i < 200; i++) not_argmax += warm.sample(l.data(), 1000, {}).token != argmax(l);
  EXPECT_GT(not_argmax, 100);
}

TEST(Sampler, TopKOneEqualsGreedy) {
  for (uint64_t seed = 0; seed < 50; seed++) {
    auto l = randn(5000, seed, 2.0);
    Sampler s(params(1.5f, 1, 1.0f, 0.0f, seed));
    EXPECT_EQ(s.sample(l.data(), 5000, {}).token, argmax(l));
  }
}

// -------------------------------------------------------------- truncation

TEST(Sampler, TopKKeepsExactlyTheKLargest) {
  std::vector<float> l = {0.1f, 2.0f, -1.0f, 1.5f, 0.7f, 1.9f, -3.0f, 0.9f, 0.0f, 1.2f};
  auto sp = params(0.8f, 4);
  Sampler s(sp);
  s.sample(l.data(), 10, {});
  EXPECT_EQ(kept_set(s), (std::set<int32_t>{1, 3, 5, 9}));
  auto want = naive_distribution(l, sp);
  ASSERT_EQ(keys(want), (std::set<int32_t>{1, 3, 5, 9}));
  double limit;
  const double stat = draw_chi2(s, l, want, 20000, &limit);
  EXPECT_LT(stat, limit);
}

TEST(Sampler, TopPKeepsTheSmallestNucleus) {
  // probabilities 0.4, 0.3, 0.15, 0.1, 0.05 (ids shuffled)
  const std::vector<double> p = {0.1, 0.4, 0.05, 0.3, 0.15};
  std::vector<float> l;
  for (double x : p) l.push_back(float(std::log(x)));
  {
    Sampler s(params(1.0f, 0, 0.8f));  // 0.4 + 0.3 = 0.7 < 0.8 <= 0.85
    s.sample(l.data(), 5, {});
    EXPECT_EQ(kept_set(s), (std::set<int32_t>{1, 3, 4}));
  }
  {
    Sampler s(params(1.0f, 0, 0.05f));  // at least one token
    s.sample(l.data(), 5, {});
    EXPECT_EQ(kept_set(s), (std::set<int32_t>{1}));
  }
  auto sp = params(1.0f, 0, 0.9f);  // 0.4 + 0.3 + 0.15 = 0.85 < 0.9 <= 0.95
  Sampler s(sp);
  s.sample(l.data(), 5, {});
  EXPECT_EQ(kept_set(s), (std::set<int32_t>{0, 1, 3, 4}));
  auto want = naive_distribution(l, sp);
  EXPECT_NEAR(want.at(1), 0.4 / 0.95, 1e-6);
  double limit;
  const double stat = draw_chi2(s, l, want, 20000, &limit);
  EXPECT_LT(stat, limit);
}

TEST(Sampler, MinPKeepsTokensAboveTheRatio) {
  // probabilities 0.5, 0.2, 0.15, 0.1, 0.05; min_p 0.25 -> threshold 0.125
  const std::vector<double> p = {0.15, 0.05, 0.5, 0.1, 0.2};
  std::vector<float> l;
  for (double x : p) l.push_back(float(std::log(x)));
  auto sp = params(1.0f, 0, 1.0f, 0.25f);
  Sampler s(sp);
  s.sample(l.data(), 5, {});
  EXPECT_EQ(kept_set(s), (std::set<int32_t>{0, 2, 4}));
  auto want = naive_distribution(l, sp);
  double limit;
  const double stat = draw_chi2(s, l, want, 20000, &limit);
  EXPECT_LT(stat, limit);
}

TEST(Sampler, TopPIsAppliedAfterTopKOnTheRenormalisedSet) {
  // p = 0.4, 0.3, 0.2, 0.1. top_k 2 renormalises to 4/7, 3/7; top_p 0.5 then
  // keeps only the first (4/7 >= 0.5), where over the full set it would keep two.
  std::vector<float> l = {float(std::log(0.4)), float(std::log(0.3)), float(std::log(0.2)), float(std::log(0.1))};
  Sampler s(params(1.0f, 2, 0.5f));
  s.sample(l.data(), 4, {});
  EXPECT_EQ(kept_set(s), (std::set<int32_t>{0}));
}

TEST(Sampler, UntruncatedDrawMatchesSoftmaxAtTemperature) {
  std::vector<float> l = {1.0f, 0.5f, 0.0f, -0.5f, 1.5f, 0.2f, -1.0f, 0.8f};
  auto sp = params(1.3f);
  Sampler s(sp);
  auto want = naive_distribution(l, sp);
  ASSERT_EQ(want.size(), 8u);
  double limit;
  const double stat = draw_chi2(s, l, want, 20000, &limit);
  EXPECT_LT(stat, limit);
  for (auto& [t, q] : want) EXPECT_NEAR(s.kept_probs()[t], q, 1e-6);
}

// The untruncated draw skips whole blocks of tokens before walking one block
// token by token. Each draw must be the token where the cumulative
// probability, in id order, first exceeds the sampler's uniform (replayed from
// an Rng of the same seed). The probabilities are the sampler's own
// (kept_probs, the same every call here), so that only the search is under
// test: exp's rounding moves every boundary a little, and at 50k tokens a
// double-precision reference would disagree on ~1% of draws. The vocab is not
// a multiple of the block; an -inf tail (a padded vocab) and a peaked row put
// mass at the ends.
TEST(Sampler, UntruncatedDrawIsWhereTheCumulativeMassPassesTheUniform) {
  const int64_t V = 50257;
  std::vector<std::vector<float>> rows = {randn(size_t(V), 31, 2.0), randn(size_t(V), 32, 0.1)};
  rows.push_back(randn(size_t(V), 33, 1.0));
  std::fill(rows.back().begin() + 50000, rows.back().end(), -std::numeric_limits<float>::infinity());
  rows.push_back(randn(size_t(V), 34, 1.0));
  rows.back()[V - 1] = 12.0f;  // most of the mass in the short last block
  rows.back()[3] = 11.0f;
  for (size_t r = 0; r < rows.size(); r++) {
    const auto& l = rows[r];
    auto sp = params(r == 1 ? 0.7f : 1.0f, 0, 1.0f, 0.0f, 40 + r);
    Sampler s(sp);
    Rng replay(sp.seed);
    const int32_t first = s.sample(l.data(), V, {}).token;
    ASSERT_EQ(s.kept_tokens().size(), size_t(V));
    EXPECT_EQ(s.kept_tokens()[12345], 12345);
    std::vector<double> cum(static_cast<size_t>(V));
    double z = 0;
    for (int64_t i = 0; i < V; i++) cum[size_t(i)] = z += s.kept_probs()[size_t(i)];
    ASSERT_NEAR(z, 1.0, 1e-5);
    auto want = [&] { return int32_t(std::upper_bound(cum.begin(), cum.end(), replay.uniform() * z) - cum.begin()); };
    ASSERT_EQ(first, want()) << "row " << r;
    for (int d = 1; d < 300; d++) ASSERT_EQ(s.sample(l.data(), V, {}).token, want()) << "row " << r << ", draw " << d;
  }
}

TEST(Sampler, TruncatedSetsMatchNaiveReferenceAtVocab50k) {
  // Large vocab so that top-p's chunked partial sort needs several rounds.
  struct Case {
    float t;
    int k;
    float p, min_p;
  };
  const std::vector<Case> cases = {{1.0f, 40, 1.0f, 0.0f},   {0.7f, 0, 0.9f, 0.0f},  {1.5f, 0, 0.95f, 0.0f},
                                   {1.0f, 0, 1.0f, 0.05f},   {0.9f, 50, 0.8f, 0.0f}, {1.2f, 1000, 0.9f, 0.01f},
                                   {1.0f, 0, 0.5f, 0.001f},  {2.0f, 0, 0.99f, 0.0f}, {0.5f, 20000, 1.0f, 0.0f}};
  for (size_t c = 0; c < cases.size(); c++) {
    auto l = randn(50000, 100 + c, 2.0);
    auto sp = params(cases[c].t, cases[c].k, cases[c].p, cases[c].min_p, c);
    Sampler s(sp);
    auto r = s.sample(l.data(), 50000, {});
    auto want = naive_distribution(l, sp);
    ASSERT_EQ(kept_set(s), keys(want)) << "case " << c;
    EXPECT_TRUE(want.count(r.token));
    auto kt = s.kept_tokens();
    auto kp = s.kept_probs();
    for (size_t j = 0; j < kt.size(); j++) ASSERT_NEAR(kp[j], want.at(kt[j]), 1e-5) << "case " << c;
    for (size_t j = 1; j < kt.size(); j++) ASSERT_LT(kt[j - 1], kt[j]) << "kept set not in id order";
  }
}

TEST(Sampler, NegativeInfinityLogitsAreNeverDrawn) {
  const float ninf = -std::numeric_limits<float>::infinity();
  std::vector<float> l = {ninf, 0.0f, ninf, 0.0f, ninf};
  for (auto sp : {params(1.0f), params(1.0f, 4), params(1.0f, 0, 0.999f), params(3.0f, 0, 1.0f, 0.5f)}) {
    Sampler s(sp);
    for (int i = 0; i < 500; i++) {
      auto t = s.sample(l.data(), 5, {}).token;
      ASSERT_TRUE(t == 1 || t == 3) << t;
    }
  }
}

// ---------------------------------------------------------------- penalties

// logits [2, -1, 0.5, 0, 3]; context counts: token 0 x3, token 1 x2, token 3 x1.
const std::vector<float> kPenaltyLogits = {2.0f, -1.0f, 0.5f, 0.0f, 3.0f};
const std::vector<int32_t> kPenaltyContext = {0, 1, 1, 3, 0, 0};

std::vector<float> penalised(const SamplingParams& sp) {
  Sampler s(sp);
  auto l = kPenaltyLogits;
  s.apply_penalties(l, kPenaltyContext);
  return l;
}

void expect_logits(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); i++) EXPECT_FLOAT_EQ(got[i], want[i]) << "token " << i;
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  auto sp = params(1.0f);
  sp.repetition_penalty = 2.0f;
  expect_logits(penalised(sp), {1.0f, -2.0f, 0.5f, 0.0f, 3.0f});
}

TEST(Sampler, FrequencyPenaltySubtractsPerOccurrence) {
  auto sp = params(1.0f);
  sp.frequency_penalty = 0.5f;
  expect_logits(penalised(sp), {0.5f, -2.0f, 0.5f, -0.5f, 3.0f});
}

TEST(Sampler, PresencePenaltySubtractsOncePerPresentToken) {
  auto sp = params(1.0f);
  sp.presence_penalty = 0.25f;
  expect_logits(penalised(sp), {1.75f, -1.25f, 0.5f, -0.25f, 3.0f});
}

TEST(Sampler, AllPenaltiesCombineRepetitionFirst) {
  auto sp = params(1.0f);
  sp.repetition_penalty = 2.0f;
  sp.frequency_penalty = 0.5f;
  sp.presence_penalty = 0.25f;
  // token 0: 2/2 - 3*0.5 - 0.25; token 1: -1*2 - 2*0.5 - 0.25; token 3: 0 - 0.5 - 0.25
  expect_logits(penalised(sp), {-0.75f, -3.25f, 0.5f, -0.75f, 3.0f});
  // The per-token counts are cleared between calls: the same input, the same output.
  expect_logits(penalised(sp), {-0.75f, -3.25f, 0.5f, -0.75f, 3.0f});
  Sampler s(sp);
  for (int i = 0; i < 3; i++) {
    auto l = kPenaltyLogits;
    s.apply_penalties(l, kPenaltyContext);
    expect_logits(l, {-0.75f, -3.25f, 0.5f, -0.75f, 3.0f});
  }
}

TEST(Sampler, SampleAppliesPenaltiesBeforeChoosing) {
  std::vector<float> l = {3.0f, 2.9f};
  const std::vector<int32_t> ctx = {0};
  auto sp = params(0.0f);
  EXPECT_EQ(Sampler(sp).sample(l.data(), 2, ctx).token, 0);
  sp.repetition_penalty = 1.5f;  // 3.0 -> 2.0 < 2.9
  Sampler s(sp);
  auto r = s.sample(l.data(), 2, ctx);
  EXPECT_EQ(r.token, 1);
  // and the log-prob is of the penalised distribution: softmax([2.0, 2.9])
  EXPECT_NEAR(r.logprob, 2.9 - std::log(std::exp(2.0) + std::exp(2.9)), 1e-6);
}

TEST(Sampler, ContextTokenOutsideVocabIsAnError) {
  std::vector<float> l = {0.0f, 1.0f};
  const std::vector<int32_t> ctx = {0, 2};
  Sampler s(params(1.0f));
  try {
    s.sample(l.data(), 2, ctx);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
  }
}

TEST(Sampler, NanLogitsAreANumericError) {
  std::vector<float> l = {0.0f, std::nanf(""), 1.0f};
  for (auto sp : {params(0.0f), params(1.0f), params(1.0f, 2)}) {
    Sampler s(sp);
    try {
      s.sample(l.data(), 3, {});
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::numeric);
    }
  }
}

// -------------------------------------------------------------- seeding

std::vector<int32_t> run(const SamplingParams& sp, int steps) {
  Sampler s(sp);
  std::vector<int32_t> out;
  for (int i = 0; i < steps; i++) {
    auto l = randn(2000, 1000 + i, 1.0);
    out.push_back(s.sample(l.data(), 2000, out).token);
  }
  return out;
}

TEST(Sampler, SameSeedSameTokens) {
  for (auto sp : {params(1.0f, 0, 1.0f, 0.0f, 42), params(0.8f, 40, 0.95f, 0.02f, 42)}) {
    sp.repetition_penalty = 1.1f;
    EXPECT_EQ(run(sp, 200), run(sp, 200));
  }
}

TEST(Sampler, DifferentSeedsDiffer) {
  auto a = params(1.0f, 0, 1.0f, 0.0f, 1), b = params(1.0f, 0, 1.0f, 0.0f, 2);
  auto ta = run(a, 200), tb = run(b, 200);
  int same = 0;
  for (size_t i = 0; i < ta.size(); i++) same += ta[i] == tb[i];
  EXPECT_LT(same, 20);  // at vocab 2000 and T = 1, coincidences are rare
}

TEST(Sampler, RngAdvancesOncePerCallGreedyOrNot) {
  auto l = randn(3000, 5);
  for (auto sp : {params(0.0f, 0, 1.0f, 0.0f, 9), params(1.0f, 0, 1.0f, 0.0f, 9), params(1.0f, 10, 0.9f, 0.0f, 9)}) {
    Sampler s(sp);
    Rng ref(9);
    for (int i = 0; i < 7; i++) {
      s.sample(l.data(), 3000, {});
      ref.uniform();
      ASSERT_EQ(s.rng().state(), ref.state());
    }
  }
}

// ---------------------------------------------------------------- log-probs

std::vector<double> naive_log_softmax(const std::vector<float>& l) {
  double mx = -INFINITY, z = 0;
  for (float x : l) mx = std::max(mx, double(x));
  for (float x : l) z += std::exp(double(x) - mx);
  std::vector<double> out;
  for (float x : l) out.push_back(double(x) - mx - std::log(z));
  return out;
}

TEST(Sampler, LogprobsEqualNaiveLogSoftmaxOfPenalisedLogits) {
  auto l = randn(50000, 11, 3.0);
  std::vector<int32_t> ctx = {5, 17, 17, 42, 30000, argmax(l)};
  for (auto sp : {params(0.0f), params(0.7f, 50, 0.9f), params(1.0f), params(2.0f, 0, 1.0f, 0.1f)}) {
    sp.repetition_penalty = 1.3f;
    sp.frequency_penalty = 0.2f;
    sp.presence_penalty = 0.1f;
    sp.top_logprobs = 5;
    auto pl = l;
    Sampler(sp).apply_penalties(pl, ctx);
    const auto ref = naive_log_softmax(pl);
    Sampler s(sp);
    for (int i = 0; i < 20; i++) {
      auto r = s.sample(l.data(), 50000, ctx);
      ASSERT_NEAR(r.logprob, ref[r.token], 1e-5);
      ASSERT_EQ(r.top.size(), 5u);
      for (auto& t : r.top) ASSERT_NEAR(t.logprob, ref[t.token], 1e-5);
    }
  }
}

TEST(Sampler, TopLogprobsAreDescendingWithTiesById) {
  std::vector<float> l = {1.0f, 3.0f, 3.0f, 2.0f, 3.0f, -5.0f};
  auto sp = params(0.0f);
  sp.top_logprobs = 4;
  auto r = Sampler(sp).sample(l.data(), 6, {});
  ASSERT_EQ(r.top.size(), 4u);
  const int32_t want[] = {1, 2, 4, 3};
  for (int i = 0; i < 4; i++) EXPECT_EQ(r.top[i].token, want[i]) << i;
  EXPECT_FLOAT_EQ(r.top[0].logprob, r.top[2].logprob);
  EXPECT_GT(r.top[2].logprob, r.top[3].logprob);
  EXPECT_EQ(r.token, 1);
  EXPECT_FLOAT_EQ(r.logprob, r.top[0].logprob);

  // the top-n of a large random vocab equal a full sort's
  auto big = randn(50000, 12, 2.0);
  sp.top_logprobs = 20;
  auto rb = Sampler(sp).sample(big.data(), 50000, {});
  std::vector<int32_t> ids(50000);
  std::iota(ids.begin(), ids.end(), 0);
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return big[a] > big[b] || (big[a] == big[b] && a < b); });
  ASSERT_EQ(rb.top.size(), 20u);
  for (int i = 0; i < 20; i++) EXPECT_EQ(rb.top[i].token, ids[i]) << i;
}

TEST(Sampler, TopLogprobsBeyondVocabAreClamped) {
  std::vector<float> l = {0.0f, 1.0f, 2.0f};
  auto sp = params(1.0f);
  sp.top_logprobs = 10;
  EXPECT_EQ(Sampler(sp).sample(l.data(), 3, {}).top.size(), 3u);
  sp.top_logprobs = 0;
  EXPECT_TRUE(Sampler(sp).sample(l.data(), 3, {}).top.empty());
}

// ---------------------------------------------------------------- validate

void expect_invalid(const SamplingParams& sp, const std::string& field) {
  try {
    sp.validate();
    ADD_FAILURE() << "no error for " << field;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

TEST(Sampler, ValidateAcceptsDefaultsAndNamesTheBadField) {
  SamplingParams ok;
  EXPECT_NO_THROW(ok.validate());
  ok.temperature = 0.0f;
  ok.top_k = 40;
  ok.top_p = 1.0f;
  ok.min_p = 1.0f;
  ok.top_logprobs = SamplingParams::kMaxTopLogprobs;
  ok.max_new_tokens = 0;
  EXPECT_NO_THROW(ok.validate());

  auto bad = [](auto set) {
    SamplingParams p;
    set(p);
    return p;
  };
  expect_invalid(bad([](auto& p) { p.temperature = -0.5f; }), "temperature");
  expect_invalid(bad([](auto& p) { p.temperature = std::nanf(""); }), "temperature");
  expect_invalid(bad([](auto& p) { p.top_k = -1; }), "top_k");
  expect_invalid(bad([](auto& p) { p.top_p = 0.0f; }), "top_p must be in (0, 1]");
  expect_invalid(bad([](auto& p) { p.top_p = 1.5f; }), "top_p");
  expect_invalid(bad([](auto& p) { p.min_p = -0.1f; }), "min_p");
  expect_invalid(bad([](auto& p) { p.repetition_penalty = 0.0f; }), "repetition_penalty");
  expect_invalid(bad([](auto& p) { p.frequency_penalty = 2.5f; }), "frequency_penalty");
  expect_invalid(bad([](auto& p) { p.presence_penalty = -3.0f; }), "presence_penalty");
  expect_invalid(bad([](auto& p) { p.max_new_tokens = -1; }), "max_new_tokens");
  expect_invalid(bad([](auto& p) { p.top_logprobs = 21; }), "top_logprobs");
  expect_invalid(bad([](auto& p) { p.stop_tokens = {3, -1}; }), "stop_tokens");
  expect_invalid(bad([](auto& p) { p.stop_strings = {"x", ""}; }), "stop_strings");

  SamplingParams p;
  p.top_p = 2.0f;
  try {
    p.validate("request 17");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "request 17");
  }
}

TEST(Sampler, StopTokenLookup) {
  SamplingParams p;
  p.stop_tokens = {2, 7};
  EXPECT_TRUE(p.is_stop_token(7));
  EXPECT_FALSE(p.is_stop_token(3));
}

}  // namespace
}  // namespace shog
