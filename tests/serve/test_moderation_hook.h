// A moderation hook for tests only, with three policies, "test",
// "test-input" (the same without the output rule) and "test-slow" (the
// input rules; output released whole, but each feed takes 20 ms, so that the
// engine runs ahead of the stream's writer), whose rules are trivial so that
// tests can trigger each path on purpose:
//   input containing "forbidden"  -> refuse (replacement "[refused by test policy]")
//   input containing "blockme"    -> block
//   input containing "secret"     -> redact ("secret" -> "[redacted]")
//   input containing "flagme"     -> flag
//   output: released as it comes until `cut_after` bytes have passed, then
//           a violation (refuse, category "test-length") mid-stream.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "moderation/moderation_hook.h"

namespace shog::serve_test {

class TestModerationHook : public ModerationHook {
 public:
  explicit TestModerationHook(size_t cut_after = 12) : cut_after_(cut_after) {}

  bool has_policy(const std::string& p) const override {
    return p == "test" || p == "test-input" || p == "test-slow";
  }

  ModerationVerdict check_input(const ModerationContext&, std::string_view text) override {
    ModerationVerdict v;
    if (text.find("forbidden") != std::string_view::npos) {
      v.action = ModerationVerdict::Action::refuse;
      v.categories = {"test-input"};
      v.replacement = "[refused by test policy]";
    } else if (text.find("blockme") != std::string_view::npos) {
      v.action = ModerationVerdict::Action::block;
      v.message = "blocked by the test policy";
    } else if (auto at = text.find("secret"); at != std::string_view::npos) {
      v.action = ModerationVerdict::Action::redact;
      v.replacement = std::string(text.substr(0, at)) + "[redacted]" + std::string(text.substr(at + 6));
    } else if (text.find("flagme") != std::string_view::npos) {
      v.action = ModerationVerdict::Action::flag;
      v.categories = {"test-flag"};
    }
    return v;
  }

  class Filter : public OutputFilter {
   public:
    Filter(size_t cut, bool slow) : cut_(cut), slow_(slow) {}
    Step feed(std::string_view text) override {
      if (slow_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      Step s;
      if (seen_ >= cut_) return s;
      const size_t take = std::min(text.size(), cut_ - seen_);
      s.release = std::string(text.substr(0, take));
      seen_ += text.size();
      if (seen_ >= cut_) {
        s.violation = true;
        s.verdict.action = ModerationVerdict::Action::refuse;
        s.verdict.categories = {"test-length"};
        s.verdict.replacement = " [cut by test policy]";
      }
      return s;
    }
    Step finish() override { return {}; }

   private:
    size_t cut_, seen_ = 0;
    bool slow_;
  };

  std::unique_ptr<OutputFilter> open_output(const ModerationContext& ctx) override {
    return std::make_unique<Filter>(ctx.policy == "test" ? cut_after_ : SIZE_MAX, ctx.policy == "test-slow");
  }

 private:
  size_t cut_after_;
};

}  // namespace shog::serve_test
