// `shoggoth moderate`: one text through a moderation policy, the verdict as JSON.
//
//   shoggoth moderate --policy-file configs/moderation.toml --policy moderate [--model DIR]
//                     [--direction input|output] [--audit-db F --deployment D --request-id R --key-id K]
//                     TEXT      (TEXT "-" reads stdin)
//
// Prints {"policy", "direction", "action", "categories", "scores", "hits",
// "replacement"/"message", "folded", "openai"}: what the server would decide
// and why (the rule hits with their spans, the folded text the rules saw).
// With --audit-db the decision is also appended to that audit log, as the
// server would log it.
#include <cstdio>
#include <iostream>
#include <iterator>

#include "cli/command.h"
#include "core/error.h"
#include "moderation/audit_log.h"
#include "moderation/moderator.h"

namespace {

void setup(CLI::App& app) {
  struct Args {
    std::string policy_file = "configs/moderation.toml", policy = "moderate", model, direction = "input", text;
    std::string audit_db, deployment = "cli", request_id, key_id;
  };
  auto a = std::make_shared<Args>();
  app.add_option("--policy-file", a->policy_file, "Policy file (TOML)")->capture_default_str();
  app.add_option("--policy", a->policy, "Policy name")->capture_default_str();
  app.add_option("--model", a->model, "Classifier directory (default: rules only)");
  app.add_option("--direction", a->direction, "input or output")
      ->check(CLI::IsMember({"input", "output"}))
      ->capture_default_str();
  app.add_option("--audit-db", a->audit_db, "Append the decision to this audit log (SQLite)");
  app.add_option("--deployment", a->deployment, "Deployment name for the audit record")->capture_default_str();
  app.add_option("--request-id", a->request_id, "Request id for the audit record");
  app.add_option("--key-id", a->key_id, "API key id for the audit record");
  app.add_option("text", a->text, "The text to judge ('-': read stdin)")->required();
  app.callback([a] {
    if (a->text == "-") a->text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    auto policies = std::make_shared<const shog::PolicySet>(shog::PolicySet::load(a->policy_file));
    std::shared_ptr<shog::ModerationClassifier> clf;
    if (!a->model.empty()) clf = shog::ModerationClassifier::load(a->model);
    shog::Moderator mod(policies, clf);
    const shog::Policy& policy = policies->get(a->policy);
    const auto dir = a->direction == "input" ? shog::Direction::input : shog::Direction::output;
    // Score with the policy's detectors even when it acts on nothing, so the
    // scores are always shown.
    auto scores = mod.score(a->text, policy.use_rules || policy.allows_everything(),
                            policy.use_classifier || policy.allows_everything());
    auto d = mod.decide(policy, dir, scores, a->text);
    auto v = d.verdict(policy);
    nlohmann::json hits = nlohmann::json::array();
    for (const auto& h : d.scores.hits)
      hits.push_back({{"category", h.category},
                      {"rule", h.rule},
                      {"begin", h.begin},
                      {"end", h.end},
                      {"text", a->text.substr(h.begin, h.end - h.begin)}});
    nlohmann::json out = {{"policy", policy.name},
                          {"direction", a->direction},
                          {"action", shog::action_name(d.action)},
                          {"categories", d.categories},
                          {"scores", d.scores.scores},
                          {"hits", hits},
                          {"classifier", clf != nullptr},
                          {"folded", shog::fold_text(a->text)}};
    if (!v.replacement.empty()) out["replacement"] = v.replacement;
    if (!v.message.empty()) out["message"] = v.message;
    out["openai"] = shog::openai_moderation_result(policies->categories(), d.scores.scores, d.categories);
    if (!a->audit_db.empty()) {
      shog::AuditLog log(a->audit_db);
      shog::AuditRecord r;
      r.request_id = a->request_id, r.deployment = a->deployment, r.policy = policy.name, r.key_id = a->key_id;
      r.direction = a->direction, r.action = shog::action_name(d.action), r.categories = d.categories;
      r.scores = d.scores.scores;
      if (policy.log_text) r.text = a->text;
      out["audit_id"] = log.append(r);
    }
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  });
}

shog::cli::Registration reg{"moderate", "Judge one text by a moderation policy; prints the verdict as JSON", setup};

}  // namespace
