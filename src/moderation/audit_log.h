// The moderation audit log: every decision, appended to SQLite.
//
//   CREATE TABLE decisions (
//     id INTEGER PRIMARY KEY AUTOINCREMENT,
//     time_ms INTEGER NOT NULL,      -- Unix time in milliseconds (UTC)
//     request_id TEXT, deployment TEXT, policy TEXT,
//     direction TEXT NOT NULL,       -- input | output | moderations
//     action TEXT NOT NULL,          -- allow | flag | redact | refuse | block
//     categories TEXT NOT NULL,      -- JSON array: the categories that triggered
//     scores TEXT NOT NULL,          -- JSON object: category -> score
//     key_id TEXT,                   -- the API key's id (never the key)
//     text TEXT)                     -- only when the policy has log_text = true
//
// Append-only: triggers abort any UPDATE or DELETE, so a decision once
// written stays as written (short of replacing the file, which is a matter
// for file permissions and backups). Writes are serialised by a mutex; the
// database runs in WAL mode so `shoggoth audit` can read while a server writes.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

struct sqlite3;

namespace shog {

struct AuditRecord {
  int64_t id = 0;        // assigned on append
  int64_t time_ms = 0;   // 0 on append: now
  std::string request_id, deployment, policy, direction, action, key_id;
  std::vector<std::string> categories;
  std::map<std::string, float> scores;
  std::optional<std::string> text;

  nlohmann::json to_json() const;
};

struct AuditQuery {
  int64_t since_ms = 0, until_ms = 0;  // 0: unbounded
  std::string deployment, policy, direction, action, request_id, key_id;  // "": any
  int64_t limit = 0;                   // 0: all
};

class AuditLog {
 public:
  // Opens (creating, with the schema) the database; read_only opens an
  // existing one for queries. Throws shog::Error(io) naming the file.
  explicit AuditLog(const std::string& path, bool read_only = false);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Thread-safe. Returns the record's id.
  int64_t append(const AuditRecord& r);
  std::vector<AuditRecord> query(const AuditQuery& q) const;
  int64_t count() const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  mutable std::mutex mu_;
};

int64_t now_unix_ms();
// "2024-05-01", "2024-05-01T12:30:00Z" (UTC), Unix seconds, or an age back
// from now: "90s", "15m", "2h", "7d". Throws shog::Error(invalid_argument, where).
int64_t parse_audit_time(const std::string& s, const std::string& where);
std::string format_utc_ms(int64_t ms);  // "2024-05-01T12:30:00.123Z"

// Exports: JSON Lines (one record a line) and CSV (RFC 4180 quoting; the
// categories and scores columns hold their JSON).
std::string audit_to_jsonl(const std::vector<AuditRecord>& rs);
std::string audit_to_csv(const std::vector<AuditRecord>& rs);

}  // namespace shog
