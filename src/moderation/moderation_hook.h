// Where the server asks a deployment's moderation policy about text. The
// server knows only this interface; PolicyModerationHook (policy_hook.h)
// implements it. It lives in the moderation layer, below serve.
// A deployment whose policy is "none" (or a server built with no hook) gets
// no checks at all.
//
//   input:  before generation, on the whole conversation (or prompt).
//   output: the reply as it streams. The server feeds each new piece of text
//           to an OutputFilter and sends the client only what the filter
//           releases. A filter in "hold back" mode releases text once it has
//           passed; in "stream first" mode it releases at once and may later
//           report a violation. A violation ends the reply with
//           finish_reason "content_filter".
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace shog {

struct ModerationVerdict {
  enum class Action { allow, flag, refuse, redact, block };
  Action action = Action::allow;
  std::vector<std::string> categories;  // that triggered the action
  std::string replacement;              // refuse: the reply to send; redact: the redacted text
  std::string message;                  // block: the error message for the client
};

class OutputFilter {
 public:
  virtual ~OutputFilter() = default;
  struct Step {
    std::string release;         // text the client may now see
    bool violation = false;      // stop generating; finish_reason content_filter
    ModerationVerdict verdict;   // why, when violation
  };
  virtual Step feed(std::string_view text) = 0;
  virtual Step finish() = 0;     // end of reply: release (or judge) what is held back
};

struct ModerationContext {
  std::string request_id, deployment, policy, api_key_id;
};

class ModerationHook {
 public:
  virtual ~ModerationHook() = default;
  // The policies this hook knows; serve refuses to start if a deployment
  // names another.
  virtual bool has_policy(const std::string& policy) const = 0;
  virtual ModerationVerdict check_input(const ModerationContext& ctx, std::string_view text) = 0;
  virtual std::unique_ptr<OutputFilter> open_output(const ModerationContext& ctx) = 0;
  // POST /v1/moderations: one result in OpenAI's shape ({"flagged",
  // "categories", "category_scores"}) for one input under ctx.policy, or
  // null when this hook cannot score text on its own (the route then 404s).
  virtual nlohmann::json moderations(const ModerationContext& ctx, std::string_view text) {
    (void)ctx, (void)text;
    return nullptr;
  }
};

}  // namespace shog
