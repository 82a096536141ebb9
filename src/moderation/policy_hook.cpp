#include "moderation/policy_hook.h"

#include "core/error.h"

namespace shog {

PolicyModerationHook::PolicyModerationHook(std::shared_ptr<const Moderator> moderator, std::shared_ptr<AuditLog> audit)
    : mod_(std::move(moderator)), audit_(std::move(audit)) {
  SHOG_ASSERT(mod_ != nullptr);
}

std::unique_ptr<PolicyModerationHook> PolicyModerationHook::open(const std::string& policy_file,
                                                                 const std::string& classifier_dir,
                                                                 const std::string& audit_db) {
  auto policies = std::make_shared<const PolicySet>(policy_file.empty() ? PolicySet() : PolicySet::load(policy_file));
  std::shared_ptr<ModerationClassifier> clf;
  if (!classifier_dir.empty()) clf = ModerationClassifier::load(classifier_dir);
  auto mod = std::make_shared<const Moderator>(std::move(policies), std::move(clf));
  std::shared_ptr<AuditLog> audit;
  if (!audit_db.empty()) audit = std::make_shared<AuditLog>(audit_db);
  return std::make_unique<PolicyModerationHook>(std::move(mod), std::move(audit));
}

bool PolicyModerationHook::has_policy(const std::string& policy) const { return mod_->policies().has(policy); }

void PolicyModerationHook::log(AuditLog* audit, const ModerationContext& ctx, const char* direction,
                               ModerationAction action, const std::vector<std::string>& categories,
                               const std::map<std::string, float>& scores, bool log_text, std::string_view text) {
  if (!audit) return;
  AuditRecord r;
  r.request_id = ctx.request_id;
  r.deployment = ctx.deployment;
  r.policy = ctx.policy;
  r.key_id = ctx.api_key_id;
  r.direction = direction;
  r.action = action_name(action);
  r.categories = categories;
  r.scores = scores;
  if (log_text) r.text = std::string(text);
  audit->append(r);
}

ModerationVerdict PolicyModerationHook::check_input(const ModerationContext& ctx, std::string_view text) {
  const Policy& policy = mod_->policies().get(ctx.policy);
  if (policy.allows_everything()) return {};
  const ModerationDecision d = mod_->moderate(policy, Direction::input, text);
  log(audit_.get(), ctx, "input", d.action, d.categories, d.scores.scores, policy.log_text, text);
  return d.verdict(policy);
}

std::unique_ptr<OutputFilter> PolicyModerationHook::open_output(const ModerationContext& ctx) {
  const Policy& policy = mod_->policies().get(ctx.policy);
  StreamModerator::Done done;
  if (!policy.allows_everything())
    // Owns what it needs: a stream may outlive the request handler that opened it.
    done = [audit = audit_, ctx, log_text = policy.log_text](const StreamOutcome& o) {
      log(audit.get(), ctx, "output", o.action, o.categories, o.scores, log_text, o.text);
    };
  return std::make_unique<StreamModerator>(mod_, policy, std::move(done));
}

nlohmann::json PolicyModerationHook::moderations(const ModerationContext& ctx, std::string_view text) {
  const Policy& policy = mod_->policies().get(ctx.policy);
  // Scores always (the endpoint exists to report them), with every detector
  // even under a policy that would not act on them; a category is flagged
  // when its score reaches the policy's input threshold, whatever the
  // action (so "none", thresholds 0.5, still answers like OpenAI's endpoint).
  ModerationScores s = mod_->score(text, true, true);
  std::vector<std::string> flagged;
  for (const auto& [cat, score] : s.scores)
    if (score >= policy.rule(Direction::input, cat).threshold) flagged.push_back(cat);
  const ModerationDecision d = mod_->decide(policy, Direction::input, s, text);
  if (!policy.allows_everything())
    log(audit_.get(), ctx, "moderations", d.action, d.categories, d.scores.scores, policy.log_text, text);
  return openai_moderation_result(mod_->policies().categories(), d.scores.scores, flagged);
}

}  // namespace shog
