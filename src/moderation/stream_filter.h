// Moderating a reply as it streams. The text arrives in pieces; every
// `chunk` bytes (and at the end) the new text is checked together with a
// trailing context window of the last `window` bytes already checked, so a
// phrase split across pieces is still seen, while a rule hit lying wholly
// inside the window (already judged) is not counted again.
//
//   hold_back     text is released only once a check has passed it; a
//                 violating chunk is never shown. Costs latency: up to one
//                 chunk is held.
//   stream_first  text is released as it arrives and checked behind it; a
//                 violation cuts the stream (the client has seen the text up
//                 to the cut). A "redact" cannot unsend text, so in this mode
//                 it ends the stream like "refuse".
//
// A violation (refuse, block, and redact in stream_first) ends the reply with
// finish_reason content_filter; flag is logged only; redact in hold_back
// replaces the held text's matches and goes on.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "moderation/moderator.h"
#include "moderation/moderation_hook.h"

namespace shog {

// What a whole stream came to, reported once (for the audit log).
struct StreamOutcome {
  ModerationAction action = ModerationAction::allow;  // the most severe action taken
  std::vector<std::string> categories;                // every category that triggered
  std::map<std::string, float> scores;                // each category's maximum over the checks
  bool violation = false;
  int64_t checks = 0;
  std::string text;                                   // everything fed (the log keeps it only if the policy says so)
};

class StreamModerator : public OutputFilter {
 public:
  using Done = std::function<void(const StreamOutcome&)>;
  // `on_done` runs once: after a violation, at finish(), or when the filter
  // is destroyed unfinished (a client that went away).
  StreamModerator(std::shared_ptr<const Moderator> moderator, Policy policy, Done on_done = {});
  ~StreamModerator() override;

  Step feed(std::string_view text) override;
  Step finish() override;

 private:
  Step check();
  void report();

  std::shared_ptr<const Moderator> mod_;
  Policy policy_;
  Done on_done_;
  std::string checked_;  // the trailing window of text already judged
  std::string pending_;  // text not yet judged
  bool stopped_ = false, reported_ = false;
  ModerationVerdict stop_verdict_;
  StreamOutcome outcome_;
};

}  // namespace shog
