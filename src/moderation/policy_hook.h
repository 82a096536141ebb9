// The server's moderation hook (moderation/moderation_hook.h), implemented by
// policies (policy.h), the detectors (moderator.h), the stream filter
// (stream_filter.h) and the audit log (audit_log.h): every decision the
// server asks for is written to the log (when one is given), one record per
// input check, per output stream and per /v1/moderations input.
//
// Deployments whose policy allows everything (e.g. "none") are neither
// checked nor logged.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "moderation/audit_log.h"
#include "moderation/moderator.h"
#include "moderation/stream_filter.h"
#include "moderation/moderation_hook.h"

namespace shog {

class PolicyModerationHook : public ModerationHook {
 public:
  // `audit` may be null (no log).
  PolicyModerationHook(std::shared_ptr<const Moderator> moderator, std::shared_ptr<AuditLog> audit);
  // A policy file, an optional classifier directory and an optional audit
  // database path ("" for none).
  static std::unique_ptr<PolicyModerationHook> open(const std::string& policy_file, const std::string& classifier_dir,
                                                    const std::string& audit_db);

  bool has_policy(const std::string& policy) const override;
  ModerationVerdict check_input(const ModerationContext& ctx, std::string_view text) override;
  std::unique_ptr<OutputFilter> open_output(const ModerationContext& ctx) override;

  // POST /v1/moderations: one result object in OpenAI's shape
  // (categories.h: openai_moderation_result) for one input, judged by the
  // context's policy's input thresholds (whatever their actions); logged
  // with direction "moderations" unless the policy allows everything.
  nlohmann::json moderations(const ModerationContext& ctx, std::string_view text) override;

  const Moderator& moderator() const { return *mod_; }

 private:
  static void log(AuditLog* audit, const ModerationContext& ctx, const char* direction, ModerationAction action,
                  const std::vector<std::string>& categories, const std::map<std::string, float>& scores,
                  bool log_text, std::string_view text);

  std::shared_ptr<const Moderator> mod_;
  std::shared_ptr<AuditLog> audit_;
};

}  // namespace shog
