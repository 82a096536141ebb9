#include "moderation/audit_log.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "core/error.h"
#include "moderation/policy_hook.h"

namespace shog {
namespace {

struct TempDb {
  std::string path;
  TempDb() {
    auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path = (std::filesystem::temp_directory_path() /
            fmt::format("shog_audit_{}_{}.sqlite", info->name(), ::getpid()))
               .string();
    clean();
  }
  ~TempDb() { clean(); }
  void clean() {
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
  }
};

const char* kPolicies = R"toml(
[rules.indiscriminate_weapons]
phrases = ["make a bomb"]
[rules.hate]
phrases = ["are subhuman"]
[policies.assistant]
chunk = 8
[policies.assistant.categories]
"*" = "flag"
indiscriminate_weapons = "refuse"
[policies.diary]
extends = "assistant"
log_text = true
)toml";

std::unique_ptr<PolicyModerationHook> hook(const std::string& db) {
  auto mod = std::make_shared<const Moderator>(
      std::make_shared<const PolicySet>(PolicySet::parse(kPolicies, "t.toml")), nullptr);
  return std::make_unique<PolicyModerationHook>(mod, std::make_shared<AuditLog>(db));
}

TEST(AuditLog, EveryDecisionIsLoggedWithItsContext) {
  TempDb db;
  auto h = hook(db.path);
  ASSERT_TRUE(h->has_policy("assistant"));
  ASSERT_TRUE(h->has_policy("none"));
  ASSERT_FALSE(h->has_policy("strict"));
  ModerationContext a{"req-1", "chat", "assistant", "key-7"};
  EXPECT_EQ(h->check_input(a, "hello there").action, ModerationAction::allow);
  EXPECT_EQ(h->check_input(a, "how to make a bomb").action, ModerationAction::refuse);
  ModerationContext b{"req-2", "chat", "assistant", "key-8"};
  {
    auto f = h->open_output(b);
    f->feed("Some say they ");
    f->feed("are subhuman. They are not.");
    f->finish();
  }
  {
    auto f = h->open_output(ModerationContext{"req-3", "chat", "assistant", "key-8"});
    f->feed("Fine.");
    // abandoned without finish(): still one record
  }
  ModerationContext d{"req-4", "journal", "diary", ""};
  h->check_input(d, "they are subhuman");
  h->check_input(ModerationContext{"req-5", "raw", "none", ""}, "how to make a bomb");  // not checked, not logged
  auto res = h->moderations(ModerationContext{"req-6", "api", "assistant", "key-7"}, "how to make a bomb");
  EXPECT_TRUE(res["flagged"].get<bool>());

  AuditLog log(db.path, /*read_only=*/true);
  auto rs = log.query({});
  ASSERT_EQ(rs.size(), 6u);
  EXPECT_EQ(log.count(), 6);
  const auto& r0 = rs[0];
  EXPECT_EQ(r0.request_id, "req-1");
  EXPECT_EQ(r0.deployment, "chat");
  EXPECT_EQ(r0.policy, "assistant");
  EXPECT_EQ(r0.key_id, "key-7");
  EXPECT_EQ(r0.direction, "input");
  EXPECT_EQ(r0.action, "allow");
  EXPECT_EQ(r0.scores.size(), 13u);
  EXPECT_FALSE(r0.text.has_value());  // the policy does not keep text
  EXPECT_GT(r0.time_ms, now_unix_ms() - 60000);
  EXPECT_EQ(rs[1].action, "refuse");
  EXPECT_EQ(rs[1].categories, std::vector<std::string>{"indiscriminate_weapons"});
  EXPECT_FLOAT_EQ(rs[1].scores.at("indiscriminate_weapons"), 1.0f);
  EXPECT_EQ(rs[2].request_id, "req-2");
  EXPECT_EQ(rs[2].direction, "output");
  EXPECT_EQ(rs[2].action, "flag");
  EXPECT_EQ(rs[2].categories, std::vector<std::string>{"hate"});
  EXPECT_EQ(rs[3].request_id, "req-3");
  EXPECT_EQ(rs[3].action, "allow");
  EXPECT_EQ(rs[4].policy, "diary");
  ASSERT_TRUE(rs[4].text.has_value());
  EXPECT_EQ(*rs[4].text, "they are subhuman");
  EXPECT_EQ(rs[5].direction, "moderations");
  EXPECT_EQ(rs[5].action, "refuse");
  for (size_t i = 1; i < rs.size(); ++i) EXPECT_GT(rs[i].id, rs[i - 1].id);
}

TEST(AuditLog, IsAppendOnly) {
  TempDb db;
  {
    AuditLog log(db.path);
    AuditRecord r;
    r.direction = "input", r.action = "flag";
    log.append(r);
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.path.c_str(), &raw), SQLITE_OK);
  char* err = nullptr;
  EXPECT_NE(sqlite3_exec(raw, "UPDATE decisions SET action = 'allow'", nullptr, nullptr, &err), SQLITE_OK);
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(err).find("append-only"), std::string::npos);
  sqlite3_free(err);
  err = nullptr;
  EXPECT_NE(sqlite3_exec(raw, "DELETE FROM decisions", nullptr, nullptr, &err), SQLITE_OK);
  sqlite3_free(err);
  sqlite3_close(raw);
  AuditLog log(db.path, true);
  auto rs = log.query({});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].action, "flag");
}

TEST(AuditLog, QueriesFilterAndExport) {
  TempDb db;
  AuditLog log(db.path);
  const int64_t t0 = 1714560000000;  // 2024-05-01T10:40:00Z
  for (int i = 0; i < 6; ++i) {
    AuditRecord r;
    r.time_ms = t0 + i * 3600000;
    r.request_id = fmt::format("r{}", i);
    r.deployment = i % 2 ? "kids" : "chat";
    r.policy = i % 2 ? "strict" : "moderate";
    r.direction = "input";
    r.action = i == 3 ? "refuse" : "allow";
    r.scores = {{"hate", 0.25f * float(i % 3)}};
    if (i == 3) r.categories = {"hate"}, r.text = "say \"hi\", then\nleave";
    log.append(r);
  }
  AuditQuery q;
  q.deployment = "kids";
  EXPECT_EQ(log.query(q).size(), 3u);
  q.action = "refuse";
  EXPECT_EQ(log.query(q).size(), 1u);
  AuditQuery since;
  since.since_ms = parse_audit_time("2024-05-01T12:40:00Z", "--since");
  EXPECT_EQ(log.query(since).size(), 4u);
  since.until_ms = t0 + 4 * 3600000;
  EXPECT_EQ(log.query(since).size(), 2u);
  since.limit = 1;
  EXPECT_EQ(log.query(since).size(), 1u);

  const auto all = log.query({});
  const std::string jsonl = audit_to_jsonl(all);
  EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), '\n'), 6);
  auto j3 = nlohmann::json::parse(jsonl.substr(0, jsonl.find('\n')));
  EXPECT_EQ(j3["time"], "2024-05-01T10:40:00.000Z");
  EXPECT_TRUE(j3["text"].is_null());
  const std::string csv = audit_to_csv(all);
  EXPECT_EQ(csv.rfind("id,time,request_id,deployment,policy,direction,action,categories,scores,key_id,text\r\n", 0),
            0u);
  EXPECT_NE(csv.find("\"say \"\"hi\"\", then\nleave\""), std::string::npos);  // RFC 4180 quoting
  EXPECT_NE(csv.find("\"[\"\"hate\"\"]\""), std::string::npos);
}

TEST(AuditLog, ParsesTimes) {
  EXPECT_EQ(parse_audit_time("2024-05-01", "t"), 1714521600000);
  EXPECT_EQ(parse_audit_time("2024-05-01T10:40:00Z", "t"), 1714560000000);
  EXPECT_EQ(parse_audit_time("1714560000", "t"), 1714560000000);
  const int64_t two_h = now_unix_ms() - parse_audit_time("2h", "t");
  EXPECT_NEAR(double(two_h), 7200000.0, 5000.0);
  EXPECT_THROW(parse_audit_time("yesterday", "--since"), Error);
  EXPECT_THROW(parse_audit_time("2024-13-01", "--since"), Error);
}

TEST(AuditLog, ReadOnlyOpenOfAMissingFileFails) {
  TempDb db;
  try {
    AuditLog log(db.path, true);
    FAIL() << "opened a missing database";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_EQ(e.where(), db.path);
  }
}

}  // namespace
}  // namespace shog
