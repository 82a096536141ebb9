// `shoggoth audit`: query and export the moderation audit log (SQLite,
// append-only; src/moderation/audit_log.h has the schema).
//
//   shoggoth audit --db audit.sqlite [--since 2024-05-01|7d] [--until ...] [--deployment D]
//                  [--policy P] [--direction input|output|moderations] [--action refuse]
//                  [--request-id R] [--key-id K] [--limit N] [--export jsonl|csv] [--out FILE]
//
// Without --export it prints one line per decision and a count per action.
#include <cstdio>
#include <map>

#include "cli/command.h"
#include "core/error.h"
#include "core/file_io.h"
#include "moderation/audit_log.h"

namespace {

void setup(CLI::App& app) {
  struct Args {
    std::string db, since, until, format, out;
    shog::AuditQuery q;
  };
  auto a = std::make_shared<Args>();
  app.add_option("--db", a->db, "Audit database (SQLite)")->required();
  app.add_option("--since", a->since, "From: YYYY-MM-DD[THH:MM:SSZ], Unix seconds, or an age (90m, 2h, 7d)");
  app.add_option("--until", a->until, "Before: same forms as --since");
  app.add_option("--deployment", a->q.deployment, "Only this deployment");
  app.add_option("--policy", a->q.policy, "Only this policy");
  app.add_option("--direction", a->q.direction, "Only this direction (input, output, moderations)");
  app.add_option("--action", a->q.action, "Only this action (allow, flag, redact, refuse, block)");
  app.add_option("--request-id", a->q.request_id, "Only this request");
  app.add_option("--key-id", a->q.key_id, "Only this API key id");
  app.add_option("--limit", a->q.limit, "At most this many decisions (0: all)");
  app.add_option("--export", a->format, "Export format")->check(CLI::IsMember({"jsonl", "csv"}));
  app.add_option("--out", a->out, "Export to this file (default: stdout)");
  app.callback([a] {
    SHOG_CHECK(shog::file_exists(a->db), shog::ErrorKind::io, a->db, "no such audit database");
    a->q.since_ms = shog::parse_audit_time(a->since, "--since");
    a->q.until_ms = shog::parse_audit_time(a->until, "--until");
    shog::AuditLog log(a->db, /*read_only=*/true);
    const auto rs = log.query(a->q);
    if (!a->format.empty()) {
      const std::string text = a->format == "jsonl" ? shog::audit_to_jsonl(rs) : shog::audit_to_csv(rs);
      if (a->out.empty()) std::fwrite(text.data(), 1, text.size(), stdout);
      else shog::write_file_atomic(a->out, text);
      if (!a->out.empty()) std::fprintf(stderr, "exported %zu decisions to %s\n", rs.size(), a->out.c_str());
      return;
    }
    std::map<std::string, int64_t> by_action;
    for (const auto& r : rs) {
      ++by_action[r.action];
      std::string cats;
      for (const auto& c : r.categories) cats += (cats.empty() ? "" : ",") + c;
      std::printf("%6lld %s %-12s %-12s %-10s %-11s %-7s %-24s key=%s%s\n", (long long)r.id,
                  shog::format_utc_ms(r.time_ms).c_str(), r.request_id.c_str(), r.deployment.c_str(),
                  r.policy.c_str(), r.direction.c_str(), r.action.c_str(), cats.empty() ? "-" : cats.c_str(),
                  r.key_id.c_str(), r.text ? " (text kept)" : "");
    }
    std::printf("%zu decisions", rs.size());
    for (const auto& [k, n] : by_action) std::printf(", %s %lld", k.c_str(), (long long)n);
    std::printf("\n");
  });
}

shog::cli::Registration reg{"audit", "Query and export the moderation audit log", setup};

}  // namespace
