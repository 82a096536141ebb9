#include "eval/best_of_n.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace shog {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Metrics of one reply per prompt, picked from the candidates by pick(i).
template <class Pick>
ReplyMetrics metrics_of(const std::vector<TestPrompt>& prompts, const std::vector<ModelReply>& candidates,
                        const std::vector<ReplyVerdict>& verdicts, int64_t n, Pick pick) {
  std::vector<ReplyVerdict> v;
  std::vector<bool> cut;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const size_t k = i * size_t(n) + size_t(pick(i));
    v.push_back(verdicts[k]);
    cut.push_back(candidates[k].finish == FinishReason::length);
  }
  return summarize_replies(prompts, v, cut);
}

}  // namespace

std::vector<ModelReply> sample_candidates(EvalModel& m, const std::vector<TestPrompt>& prompts,
                                          const BestOfNOptions& opt) {
  SHOG_CHECK(opt.n >= 1, ErrorKind::invalid_argument, "--best-of", "must be >= 1, got {}", opt.n);
  std::vector<TestPrompt> queue;  // each prompt n times in a row
  queue.reserve(prompts.size() * size_t(opt.n));
  for (const TestPrompt& p : prompts)
    for (int64_t k = 0; k < opt.n; ++k) queue.push_back(p);
  return generate_replies(m, queue, opt.replies);
}

std::vector<int64_t> choose_highest(const std::vector<double>& scores, int64_t n) {
  SHOG_CHECK(n >= 1 && scores.size() % size_t(n) == 0, ErrorKind::invalid_argument, "best of n",
             "{} scores do not split into runs of {}", scores.size(), n);
  std::vector<int64_t> chosen;
  for (size_t i = 0; i < scores.size(); i += size_t(n)) {
    int64_t best = -1;
    for (int64_t k = 0; k < n; ++k) {
      const double s = scores[i + size_t(k)];
      if (std::isfinite(s) && (best < 0 || s > scores[i + size_t(best)])) best = k;
    }
    chosen.push_back(best);
  }
  return chosen;
}

BestOfN choose_best_of_n(const std::vector<TestPrompt>& prompts, const std::vector<ModelReply>& candidates,
                         int64_t n, const ConversationScorer& score) {
  SHOG_CHECK(n >= 1 && candidates.size() == prompts.size() * size_t(n), ErrorKind::invalid_argument, "best of n",
             "{} candidates for {} prompts are not {} per prompt", candidates.size(), prompts.size(), n);
  std::vector<Messages> convs;
  convs.reserve(candidates.size());
  for (size_t k = 0; k < candidates.size(); ++k) convs.push_back(prompts[k / size_t(n)].answered(candidates[k].text));
  const std::vector<double> scores = score(convs);
  SHOG_CHECK(scores.size() == convs.size(), ErrorKind::invalid_argument, "best of n",
             "the scorer returned {} scores for {} conversations", scores.size(), convs.size());

  std::vector<ReplyVerdict> verdicts;  // every sample's, for the oracle
  verdicts.reserve(candidates.size());
  for (size_t k = 0; k < candidates.size(); ++k) verdicts.push_back(judge_reply(prompts[k / size_t(n)], candidates[k].text));

  BestOfN r;
  r.n = n;
  for (int64_t c : choose_highest(scores, n)) {
    const size_t i = r.chosen.size();
    r.chosen.push_back(std::max<int64_t>(c, 0));
    r.chosen_score.push_back(c < 0 ? kNaN : scores[i * size_t(n) + size_t(c)]);
  }
  r.metrics = metrics_of(prompts, candidates, verdicts, n, [&](size_t i) { return r.chosen[i]; });
  r.oracle = metrics_of(prompts, candidates, verdicts, n, [&](size_t i) {
    // A correct sample first; failing that, one that does not refuse a
    // request it should answer (so the oracle's over-refusal counts only the
    // prompts where every sample refused).
    const auto rank = [&](int64_t k) {
      const ReplyVerdict& v = verdicts[i * size_t(n) + size_t(k)];
      return 2 * int(v.correct) + int(prompts[i].kind != PromptKind::harmful && !v.refused);
    };
    int64_t best = 0;
    for (int64_t k = 1; k < n; ++k)
      if (rank(k) > rank(best)) best = k;
    return best;
  });
  r.score_mean = finite_mean(r.chosen_score).mean;
  r.sample_score_mean = finite_mean(scores).mean;
  r.samples = candidates;
  r.sample_scores = scores;
  r.sample_verdicts = std::move(verdicts);
  return r;
}

}  // namespace shog
