// Moderation policies: per category and direction, a threshold and an
// action, plus how output is streamed. A deployment names one policy; a
// policy file (TOML, docs/moderation.md) holds several, the rule lists the
// rule detector uses, and any custom categories. "none" is built in: every
// category allowed, nothing checked (the research tier's raw model).
//
//   [policies.moderate]
//   output_mode = "stream_first"     # or "hold_back"
//   window = 256                     # bytes of checked text re-read with each chunk
//   chunk = 64                       # new bytes per output check
//   refusal = "I can't help with that."
//   log_text = false
//   [policies.moderate.categories]   # both directions; "*" = every category
//   "*" = { threshold = 0.5, action = "flag" }
//   violent_crimes = { threshold = 0.5, action = "refuse" }
//   [policies.moderate.output]       # one direction, overriding the above
//   privacy = { threshold = 0.5, action = "redact" }
//
// Precedence for a (category, direction): categories."*" < <direction>."*"
// < categories.<id> < <direction>.<id>; a policy with `extends = "other"`
// starts from that policy's resolved settings.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "moderation/categories.h"
#include "moderation/rule_detector.h"
#include "moderation/moderation_hook.h"

namespace shog {

using ModerationAction = ModerationVerdict::Action;
// allow < flag < redact < refuse < block: the most severe triggered action wins.
int action_severity(ModerationAction a);
const char* action_name(ModerationAction a);
// Throws shog::Error(invalid_argument, where) on anything but the five names.
ModerationAction parse_action(std::string_view s, const std::string& where);

enum class Direction : uint8_t { input, output };
const char* direction_name(Direction d);

enum class OutputMode : uint8_t { hold_back, stream_first };
const char* output_mode_name(OutputMode m);

struct CategoryRule {
  float threshold = 0.5f;  // a category triggers when its score >= threshold
  ModerationAction action = ModerationAction::allow;
};

struct Policy {
  std::string name, description;
  OutputMode output_mode = OutputMode::stream_first;
  int64_t window = 256;
  int64_t chunk = 64;
  std::string refusal = "I can't help with that.";
  std::string block_message = "This request was blocked by the content policy.";
  std::string redaction = "[redacted]";
  bool log_text = false;
  bool use_rules = true, use_classifier = true;
  std::map<std::string, CategoryRule> input, output;  // every category of the set

  const CategoryRule& rule(Direction d, const std::string& category) const;
  // True when every category is allowed in both directions: nothing to check.
  bool allows_everything() const;
};

class PolicySet {
 public:
  // Only the built-in categories and policy "none".
  PolicySet();
  // Throws shog::Error naming the file, line and key on anything malformed.
  static PolicySet load(const std::string& path);
  static PolicySet parse(std::string_view toml, const std::string& name);

  const CategorySet& categories() const { return categories_; }
  const RuleDetector& rules() const { return rules_; }
  bool has(const std::string& policy) const { return policies_.count(policy) != 0; }
  // Throws shog::Error(invalid_argument) naming the policies there are.
  const Policy& get(const std::string& policy) const;
  std::vector<std::string> names() const;

 private:
  CategorySet categories_;
  RuleDetector rules_;
  std::map<std::string, Policy> policies_;
};

}  // namespace shog
