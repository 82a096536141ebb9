#include "moderation/stream_filter.h"

#include <gtest/gtest.h>

namespace shog {
namespace {

std::shared_ptr<const Moderator> moderator() {
  static const char* toml = R"toml(
[rules.indiscriminate_weapons]
phrases = ["make a bomb"]
[rules.privacy]
patterns = ['\b\d{3}-\d{3}-\d{4}\b']
[rules.hate]
phrases = ["are subhuman"]
[policies.first]
output_mode = "stream_first"
chunk = 16
window = 64
refusal = "Sorry."
[policies.first.output]
indiscriminate_weapons = "refuse"
privacy = "redact"
hate = "flag"
[policies.held]
extends = "first"
output_mode = "hold_back"
)toml";
  return std::make_shared<const Moderator>(std::make_shared<const PolicySet>(PolicySet::parse(toml, "t.toml")),
                                           nullptr);
}

struct StreamRun {
  std::string released;
  int violation_at = -1;  // index of the piece whose step reported the violation
  ModerationVerdict verdict;
  int reports = 0;
  StreamOutcome outcome;
};

StreamRun run(const Policy& p, const std::vector<std::string>& pieces) {
  StreamRun r;
  auto m = moderator();
  {
    StreamModerator f(m, p, [&](const StreamOutcome& o) {
      ++r.reports;
      r.outcome = o;
    });
    for (size_t i = 0; i < pieces.size(); ++i) {
      auto st = f.feed(pieces[i]);
      r.released += st.release;
      if (st.violation) {
        if (r.violation_at < 0) r.violation_at = int(i), r.verdict = st.verdict;
        EXPECT_TRUE(st.release.empty() || p.output_mode == OutputMode::stream_first);
      }
    }
    auto st = f.finish();
    r.released += st.release;
    if (st.violation && r.violation_at < 0) r.violation_at = int(pieces.size()), r.verdict = st.verdict;
  }
  return r;
}

const std::vector<std::string> kTurnsBad = {"Sure, here is ", "a short history ", "of mining. Now, to ",
                                            "make a b",       "omb you need ",    "the following things"};

TEST(StreamFilter, HoldBackNeverShowsTheViolation) {
  auto m = moderator();
  StreamRun r = run(m->policies().get("held"), kTurnsBad);
  ASSERT_GE(r.violation_at, 0);
  EXPECT_EQ(r.verdict.action, ModerationAction::refuse);
  EXPECT_EQ(r.verdict.replacement, "Sorry.");
  EXPECT_EQ(r.verdict.categories, std::vector<std::string>{"indiscriminate_weapons"});
  // Only text that passed a check came out: a clean prefix of the reply.
  const std::string full = "Sure, here is a short history of mining. Now, to make a bomb you need the following things";
  EXPECT_EQ(full.rfind(r.released, 0), 0u) << r.released;
  EXPECT_EQ(r.released.find("bomb"), std::string::npos);
  EXPECT_NE(r.released.find("history"), std::string::npos);
  EXPECT_EQ(r.reports, 1);
  EXPECT_TRUE(r.outcome.violation);
}

TEST(StreamFilter, StreamFirstReleasesThenCuts) {
  auto m = moderator();
  StreamRun r = run(m->policies().get("first"), kTurnsBad);
  ASSERT_GE(r.violation_at, 0);
  EXPECT_EQ(r.verdict.action, ModerationAction::refuse);
  // Everything up to and including the piece that completed the phrase went
  // out; nothing after the cut did.
  std::string expect;
  for (int i = 0; i <= r.violation_at; ++i) expect += kTurnsBad[size_t(i)];
  EXPECT_EQ(r.released, expect);
  EXPECT_NE(r.released.find("make a bomb"), std::string::npos);
  EXPECT_EQ(r.released.find("following"), std::string::npos);
  EXPECT_EQ(r.reports, 1);
}

TEST(StreamFilter, CleanReplyPassesWholeInBothModes) {
  auto m = moderator();
  const std::vector<std::string> clean = {"The ", "quick brown fox ", "jumps over ", "the lazy dog", "."};
  for (const char* p : {"held", "first"}) {
    StreamRun r = run(m->policies().get(p), clean);
    EXPECT_EQ(r.violation_at, -1) << p;
    EXPECT_EQ(r.released, "The quick brown fox jumps over the lazy dog.") << p;
    EXPECT_EQ(r.outcome.action, ModerationAction::allow);
    EXPECT_GE(r.outcome.checks, 2);
    EXPECT_EQ(r.reports, 1);
  }
}

TEST(StreamFilter, TheWindowCatchesAPhraseSplitAcrossChunks) {
  auto m = moderator();
  Policy p = m->policies().get("held");
  p.chunk = 1;  // every piece is checked on its own...
  const std::vector<std::string> split = {"To make a b", "omb, first"};
  EXPECT_EQ(run(p, split).violation_at, 1);  // ...yet the window joins them
  p.window = 0;                              // without one the phrase is missed
  EXPECT_EQ(run(p, split).violation_at, -1);
}

TEST(StreamFilter, HoldBackRedactsAndGoesOn) {
  auto m = moderator();
  Policy p = m->policies().get("held");
  StreamRun r = run(p, {"Call me at 555-123-4567 ", "tomorrow, or write a letter to the office."});
  EXPECT_EQ(r.violation_at, -1);
  // The number is cut; the next chunk (whose window still holds the number,
  // already judged) is released unchanged.
  EXPECT_EQ(r.released, "Call me at [redacted] tomorrow, or write a letter to the office.");
  EXPECT_EQ(r.outcome.action, ModerationAction::redact);
}

TEST(StreamFilter, RedactInStreamFirstEndsTheStream) {
  auto m = moderator();
  StreamRun r = run(m->policies().get("first"), {"Call me at 555-123-4567 ", "tomorrow, or write a letter."});
  EXPECT_EQ(r.violation_at, 0);
  EXPECT_EQ(r.verdict.action, ModerationAction::redact);
}

TEST(StreamFilter, FlagIsLoggedNotCut) {
  auto m = moderator();
  StreamRun r = run(m->policies().get("first"), {"Some say they are subhuman; ", "that is false and cruel."});
  EXPECT_EQ(r.violation_at, -1);
  EXPECT_EQ(r.outcome.action, ModerationAction::flag);
  EXPECT_EQ(r.outcome.categories, std::vector<std::string>{"hate"});
  EXPECT_FLOAT_EQ(r.outcome.scores.at("hate"), 1.0f);
}

TEST(StreamFilter, ReportsOnceEvenWhenAbandoned) {
  auto m = moderator();
  int reports = 0;
  {
    StreamModerator f(m, m->policies().get("first"), [&](const StreamOutcome&) { ++reports; });
    f.feed("a reply the client stopped reading");
  }
  EXPECT_EQ(reports, 1);
}

}  // namespace
}  // namespace shog
