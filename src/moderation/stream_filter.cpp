#include "moderation/stream_filter.h"

#include <algorithm>

namespace shog {

StreamModerator::StreamModerator(std::shared_ptr<const Moderator> moderator, Policy policy, Done on_done)
    : mod_(std::move(moderator)), policy_(std::move(policy)), on_done_(std::move(on_done)) {}

StreamModerator::~StreamModerator() {
  try {
    report();
  } catch (...) {
    // A destructor must not throw; the audit log reports its own failures.
  }
}

void StreamModerator::report() {
  if (reported_) return;
  reported_ = true;
  if (on_done_) on_done_(outcome_);
}

OutputFilter::Step StreamModerator::feed(std::string_view text) {
  Step st;
  if (stopped_) {
    st.violation = true;
    st.verdict = stop_verdict_;
    return st;
  }
  outcome_.text.append(text);
  pending_.append(text);
  const bool first = policy_.output_mode == OutputMode::stream_first;
  if (int64_t(pending_.size()) < policy_.chunk) {
    if (first) st.release = std::string(text);
    return st;
  }
  st = check();
  // Stream first: this piece went out before its check could stop it.
  if (first) st.release = std::string(text);
  return st;
}

OutputFilter::Step StreamModerator::finish() {
  Step st;
  if (stopped_) {
    st.violation = true;
    st.verdict = stop_verdict_;
  } else if (!pending_.empty()) {
    st = check();
    if (policy_.output_mode == OutputMode::stream_first) st.release.clear();  // already sent by feed()
  }
  report();
  return st;
}

OutputFilter::Step StreamModerator::check() {
  Step st;
  const size_t from = checked_.size();
  const std::string ctx = checked_ + pending_;
  ModerationDecision dec;
  if (!policy_.allows_everything())
    dec = mod_->decide(policy_, Direction::output, mod_->score(ctx, policy_.use_rules, policy_.use_classifier, from),
                       ctx);
  ++outcome_.checks;
  for (const auto& [c, s] : dec.scores.scores) outcome_.scores[c] = std::max(outcome_.scores[c], s);
  for (const auto& c : dec.categories)
    if (std::find(outcome_.categories.begin(), outcome_.categories.end(), c) == outcome_.categories.end())
      outcome_.categories.push_back(c);
  if (action_severity(dec.action) > action_severity(outcome_.action)) outcome_.action = dec.action;

  const bool hold = policy_.output_mode == OutputMode::hold_back;
  const bool violation = dec.action == ModerationAction::refuse || dec.action == ModerationAction::block ||
                         (dec.action == ModerationAction::redact && !hold);
  if (violation) {
    stopped_ = true;
    outcome_.violation = true;
    stop_verdict_ = dec.verdict(policy_);
    st.violation = true;
    st.verdict = stop_verdict_;
    pending_.clear();
    report();
    return st;
  }
  if (hold && dec.action == ModerationAction::redact) {
    // Only the held (pending) text can change: spans clipped to it; a redact
    // category with no located hit takes the whole held text.
    std::vector<std::pair<uint32_t, uint32_t>> spans;
    bool whole = false;
    for (const auto& cat : dec.categories) {
      if (policy_.rule(Direction::output, cat).action != ModerationAction::redact) continue;
      bool located = false;
      for (const auto& h : dec.scores.hits)
        if (h.category == cat && h.end > from) {
          spans.push_back({uint32_t(std::max<size_t>(h.begin, from) - from), uint32_t(h.end - from)});
          located = true;
        }
      whole |= !located;
    }
    st.release = whole ? policy_.redaction : redact_spans(pending_, std::move(spans), policy_.redaction);
  } else if (hold) {
    st.release = pending_;
  }
  // The judged text joins the window, cut to its last `window` bytes at a
  // word start so that a cut word cannot read as another ("skill" -> "kill").
  checked_ += pending_;
  pending_.clear();
  const size_t W = size_t(policy_.window);
  if (checked_.size() > W) {
    size_t cut = checked_.size() - W;
    const size_t ws = checked_.find_first_of(" \t\n\r", cut);
    if (ws != std::string::npos) cut = ws + 1;
    else
      while (cut < checked_.size() && (uint8_t(checked_[cut]) & 0xC0) == 0x80) ++cut;
    checked_.erase(0, cut);
  }
  return st;
}

}  // namespace shog
