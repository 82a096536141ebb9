#include "moderation/policy.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "moderation/moderator.h"

namespace shog {
namespace {

const char* kPolicies = R"toml(
[categories.spam]
title = "Spam"
openai = ["harassment"]

[rules.indiscriminate_weapons]
phrases = ["make a bomb"]
[rules.privacy]
patterns = ['\b\d{3}-\d{2}-\d{4}\b']
[rules.spam]
phrases = ["buy cheap pills"]
[rules.hate]
phrases = ["are subhuman"]

[policies.base]
refusal = "No."
[policies.base.categories]
"*" = { threshold = 0.5, action = "flag" }
indiscriminate_weapons = "refuse"
[policies.base.input]
"*" = { threshold = 0.9 }
privacy = { action = "allow" }
[policies.base.output]
privacy = { threshold = 0.4, action = "redact" }
spam = { action = "block" }

[policies.kids]
extends = "base"
output_mode = "hold_back"
window = 100
chunk = 10
log_text = true
[policies.kids.categories]
hate = { threshold = 0.2, action = "block" }
)toml";

PolicySet load() { return PolicySet::parse(kPolicies, "test.toml"); }

TEST(Policy, ParsesNamedPoliciesWithPrecedence) {
  PolicySet s = load();
  EXPECT_TRUE(s.has("none"));
  EXPECT_TRUE(s.has("base"));
  EXPECT_TRUE(s.has("kids"));
  EXPECT_FALSE(s.has("strict"));
  EXPECT_TRUE(s.categories().contains("spam"));
  const Policy& b = s.get("base");
  EXPECT_EQ(b.refusal, "No.");
  EXPECT_EQ(b.output_mode, OutputMode::stream_first);
  // categories."*" < input."*" < categories.<id> < input.<id>
  EXPECT_EQ(b.rule(Direction::input, "hate").action, ModerationAction::flag);
  EXPECT_FLOAT_EQ(b.rule(Direction::input, "hate").threshold, 0.9f);
  EXPECT_FLOAT_EQ(b.rule(Direction::output, "hate").threshold, 0.5f);
  EXPECT_EQ(b.rule(Direction::input, "indiscriminate_weapons").action, ModerationAction::refuse);
  EXPECT_FLOAT_EQ(b.rule(Direction::input, "indiscriminate_weapons").threshold, 0.9f);
  EXPECT_EQ(b.rule(Direction::input, "privacy").action, ModerationAction::allow);
  EXPECT_EQ(b.rule(Direction::output, "privacy").action, ModerationAction::redact);
  EXPECT_FLOAT_EQ(b.rule(Direction::output, "privacy").threshold, 0.4f);
  EXPECT_EQ(b.rule(Direction::output, "spam").action, ModerationAction::block);
  // extends: the base's settings, then its own.
  const Policy& k = s.get("kids");
  EXPECT_EQ(k.output_mode, OutputMode::hold_back);
  EXPECT_EQ(k.window, 100);
  EXPECT_EQ(k.chunk, 10);
  EXPECT_TRUE(k.log_text);
  EXPECT_EQ(k.refusal, "No.");
  EXPECT_EQ(k.rule(Direction::output, "spam").action, ModerationAction::block);
  EXPECT_EQ(k.rule(Direction::input, "hate").action, ModerationAction::block);
  EXPECT_FLOAT_EQ(k.rule(Direction::input, "hate").threshold, 0.2f);
}

TEST(Policy, NoneIsBuiltInAndAllowsEverything) {
  PolicySet s;
  ASSERT_TRUE(s.has("none"));
  EXPECT_TRUE(s.get("none").allows_everything());
  EXPECT_FALSE(load().get("base").allows_everything());
  Moderator m(std::make_shared<PolicySet>(load()), nullptr);
  auto d = m.moderate(m.policies().get("none"), Direction::input, "how to make a bomb");
  EXPECT_EQ(d.action, ModerationAction::allow);
  EXPECT_TRUE(d.categories.empty());
}

void expect_error(const std::string& toml, const std::string& where_part, const std::string& what_part) {
  try {
    PolicySet::parse(toml, "p.toml");
    ADD_FAILURE() << "no error for:\n" << toml;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(e.where().find(where_part), std::string::npos) << e.where();
    EXPECT_NE(e.what_only().find(what_part), std::string::npos) << e.what_only();
  }
}

TEST(Policy, ErrorsNameFileLineAndKey) {
  expect_error("[policies.a]\nwindoww = 3\n", "p.toml:2: key policies.a.windoww", "unknown key");
  expect_error("[policies.a.categories]\nhate = \"shout\"\n", "p.toml:2: key policies.a.categories.hate",
               "unknown action");
  expect_error("[policies.a.input]\nhate = { threshold = 1.5 }\n", "key policies.a.input.hate.threshold", "[0, 1]");
  expect_error("[policies.a.output]\nwizardry = \"refuse\"\n", "key policies.a.output.wizardry", "unknown category");
  expect_error("[policies.a]\noutput_mode = \"later\"\n", "key policies.a.output_mode", "hold_back");
  expect_error("[policies.a]\nchunk = 0\n", "key policies.a.chunk", "must be in");
  expect_error("[policies.none]\n", "policies.none", "built in");
  expect_error("[policies.a]\nextends = \"b\"\n[policies.b]\nextends = \"a\"\n", "policies.", "cycle");
  expect_error("[policies.a]\nextends = \"zz\"\n", "key policies.a.extends", "no policy");
  expect_error("[rules.hate]\npatterns = ['(unclosed']\n", "p.toml:2: key rules.hate.patterns", "does not compile");
  expect_error("[rules.hate]\nphrases = ['!!!']\n", "key rules.hate.phrases", "no letters");
  expect_error("[rules.nothing]\nphrases = ['x']\n", "key rules.nothing", "unknown category");
  expect_error("[categories.Bad-Id]\n", "key categories.Bad-Id", "lowercase");
  expect_error("[categories.spam]\nopenai = ['spam']\n", "key categories.spam", "not an OpenAI");
  expect_error("[polices.a]\n", "key polices", "unknown top-level key");
  expect_error("[policies.a\n", "p.toml:1", "TOML syntax");
}

TEST(Policy, ActionsFollowTheMostSevereTriggeredCategory) {
  Moderator m(std::make_shared<PolicySet>(load()), nullptr);
  const Policy& b = m.policies().get("base");
  // refuse beats flag; the verdict carries the refusal text.
  auto d = m.moderate(b, Direction::input, "they are subhuman, so make a bomb");
  EXPECT_EQ(d.action, ModerationAction::refuse);
  ASSERT_EQ(d.categories.size(), 2u);
  EXPECT_EQ(d.categories[0], "indiscriminate_weapons");
  EXPECT_EQ(d.categories[1], "hate");
  EXPECT_EQ(d.verdict(b).replacement, "No.");
  EXPECT_FLOAT_EQ(d.scores.scores.at("indiscriminate_weapons"), 1.0f);
  EXPECT_FLOAT_EQ(d.scores.scores.at("elections"), 0.0f);
  // flag only.
  d = m.moderate(b, Direction::input, "they are subhuman");
  EXPECT_EQ(d.action, ModerationAction::flag);
  // redact (output): the match is cut out of the text.
  d = m.moderate(b, Direction::output, "Her SSN is 123-45-6789, keep it safe.");
  EXPECT_EQ(d.action, ModerationAction::redact);
  EXPECT_EQ(d.verdict(b).replacement, "Her SSN is [redacted], keep it safe.");
  // the same on input is allowed by this policy.
  EXPECT_EQ(m.moderate(b, Direction::input, "Her SSN is 123-45-6789").action, ModerationAction::allow);
  // block, with the policy's message; custom category.
  d = m.moderate(b, Direction::output, "B U Y cheap p1lls");
  EXPECT_EQ(d.action, ModerationAction::block);
  EXPECT_EQ(d.categories, std::vector<std::string>{"spam"});
  EXPECT_EQ(d.verdict(b).message, b.block_message);
  // nothing.
  EXPECT_EQ(m.moderate(b, Direction::output, "The weather is fine.").action, ModerationAction::allow);
}

TEST(Policy, ShippedConfigLoads) {
  PolicySet s = PolicySet::load(std::string(SHOG_SOURCE_DIR) + "/configs/moderation.toml");
  for (const char* p : {"none", "moderate", "strict"}) EXPECT_TRUE(s.has(p)) << p;
  EXPECT_EQ(s.get("strict").output_mode, OutputMode::hold_back);
  EXPECT_EQ(s.get("moderate").output_mode, OutputMode::stream_first);
  EXPECT_GT(s.rules().num_rules(), 100u);
  Moderator m(std::make_shared<PolicySet>(std::move(s)), nullptr);
  const Policy& mod = m.policies().get("moderate");
  EXPECT_EQ(m.moderate(mod, Direction::input, "h0w do i m a k e a b.o.m.b").action, ModerationAction::refuse);
  EXPECT_EQ(m.moderate(mod, Direction::input, "What caused the Halifax explosion in 1917?").action,
            ModerationAction::allow);
  EXPECT_EQ(m.moderate(mod, Direction::input, "How do I kill a Python process that hangs?").action,
            ModerationAction::allow);
  EXPECT_EQ(m.moderate(mod, Direction::output, "Write to jane.doe@example.com").action, ModerationAction::redact);
}

}  // namespace
}  // namespace shog
