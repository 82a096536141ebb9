// Stop-string matching over streamed text; the rules are in stop_strings.h.
#include "infer/stop_strings.h"

#include <algorithm>

#include "core/error.h"

namespace shog {

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
  for (const auto& s : stops_) {
    SHOG_CHECK(!s.empty(), ErrorKind::invalid_argument, "stop_strings",
               "a stop string must not be empty (it would match before any text)");
    max_len_ = std::max(max_len_, s.size());
  }
}

StopStringMatcher::Result StopStringMatcher::feed(std::string_view piece) {
  if (stopped_) return {emit_upto_, true};
  total_ += piece.size();
  if (stops_.empty()) {
    emit_upto_ = total_;
    window_start_ = total_;
    return {emit_upto_, false};
  }
  window_.append(piece);

  // Between feeds the window holds fewer bytes than the longest stop, and no
  // complete stop (it would have matched when it completed), so any match found
  // here ends in the new piece, and every such match lies inside the window.
  size_t best_start = std::string::npos, best_end = std::string::npos;
  for (const auto& s : stops_) {
    const size_t pos = window_.find(s);  // first occurrence = earliest end for this stop
    if (pos == std::string::npos) continue;
    const size_t end = pos + s.size();
    if (end < best_end || (end == best_end && pos < best_start)) best_start = pos, best_end = end;
  }
  if (best_start != std::string::npos) {
    stopped_ = true;
    // Never before emit_upto_: a match starting earlier would have made a
    // longer held-back suffix on the previous feed.
    emit_upto_ = window_start_ + best_start;
    return {emit_upto_, true};
  }

  // Hold back the longest suffix that is a proper prefix of some stop.
  size_t held = 0;
  for (const auto& s : stops_) {
    for (size_t len = std::min(s.size() - 1, window_.size()); len > held; len--) {
      if (std::string_view(window_).substr(window_.size() - len) == std::string_view(s).substr(0, len)) {
        held = len;
        break;
      }
    }
  }
  emit_upto_ = total_ - held;

  // Keep only what a later match or hold-back could still need.
  const size_t keep = max_len_ - 1;
  if (window_.size() > keep) {
    const size_t drop = window_.size() - keep;
    window_.erase(0, drop);
    window_start_ += drop;
  }
  return {emit_upto_, false};
}

size_t StopStringMatcher::flush() const { return stopped_ ? emit_upto_ : total_; }

}  // namespace shog
