#include "moderation/audit_log.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/error.h"

namespace shog {

namespace {

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS decisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time_ms INTEGER NOT NULL,
  request_id TEXT, deployment TEXT, policy TEXT,
  direction TEXT NOT NULL,
  action TEXT NOT NULL,
  categories TEXT NOT NULL,
  scores TEXT NOT NULL,
  key_id TEXT,
  text TEXT);
CREATE INDEX IF NOT EXISTS decisions_time ON decisions(time_ms);
CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql";

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

std::string col_text(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

}  // namespace

nlohmann::json AuditRecord::to_json() const {
  nlohmann::json j = {{"id", id},
                      {"time", format_utc_ms(time_ms)},
                      {"time_ms", time_ms},
                      {"request_id", request_id},
                      {"deployment", deployment},
                      {"policy", policy},
                      {"direction", direction},
                      {"action", action},
                      {"categories", categories},
                      {"scores", scores},
                      {"key_id", key_id}};
  j["text"] = text ? nlohmann::json(*text) : nlohmann::json(nullptr);
  return j;
}

AuditLog::AuditLog(const std::string& path, bool read_only) : path_(path) {
  const int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(ErrorKind::io, path, fmt::format("cannot open the audit log: {}", msg));
  }
  sqlite3_busy_timeout(db_, 5000);
  if (!read_only) {
    char* err = nullptr;
    if (sqlite3_exec(db_, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "?";
      sqlite3_free(err);
      sqlite3_close(db_);
      db_ = nullptr;
      throw Error(ErrorKind::io, path, fmt::format("cannot create the audit schema: {}", msg));
    }
  }
}

AuditLog::~AuditLog() { sqlite3_close(db_); }

int64_t AuditLog::append(const AuditRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st;
  const char* sql =
      "INSERT INTO decisions (time_ms, request_id, deployment, policy, direction, action, categories, scores, key_id, "
      "text) VALUES (?,?,?,?,?,?,?,?,?,?)";
  SHOG_CHECK(sqlite3_prepare_v2(db_, sql, -1, &st.s, nullptr) == SQLITE_OK, ErrorKind::io, path_,
             "audit insert: {}", sqlite3_errmsg(db_));
  const std::string cats = nlohmann::json(r.categories).dump(), scores = nlohmann::json(r.scores).dump();
  sqlite3_bind_int64(st.s, 1, r.time_ms ? r.time_ms : now_unix_ms());
  int i = 2;
  for (const std::string* s : {&r.request_id, &r.deployment, &r.policy, &r.direction, &r.action, &cats, &scores,
                               &r.key_id})
    sqlite3_bind_text(st.s, i++, s->data(), int(s->size()), SQLITE_TRANSIENT);
  if (r.text) sqlite3_bind_text(st.s, i, r.text->data(), int(r.text->size()), SQLITE_TRANSIENT);
  else sqlite3_bind_null(st.s, i);
  SHOG_CHECK(sqlite3_step(st.s) == SQLITE_DONE, ErrorKind::io, path_, "audit insert: {}", sqlite3_errmsg(db_));
  return sqlite3_last_insert_rowid(db_);
}

std::vector<AuditRecord> AuditLog::query(const AuditQuery& q) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql =
      "SELECT id, time_ms, request_id, deployment, policy, direction, action, categories, scores, key_id, text FROM "
      "decisions WHERE 1=1";
  std::vector<std::pair<int, std::string>> binds;  // 0: integer (in the string), 1: text
  if (q.since_ms) sql += " AND time_ms >= ?", binds.push_back({0, std::to_string(q.since_ms)});
  if (q.until_ms) sql += " AND time_ms < ?", binds.push_back({0, std::to_string(q.until_ms)});
  const std::pair<const char*, const std::string*> eq[] = {{"deployment", &q.deployment}, {"policy", &q.policy},
                                                           {"direction", &q.direction},   {"action", &q.action},
                                                           {"request_id", &q.request_id}, {"key_id", &q.key_id}};
  for (const auto& [col, v] : eq)
    if (!v->empty()) sql += fmt::format(" AND {} = ?", col), binds.push_back({1, *v});
  sql += " ORDER BY id";
  if (q.limit > 0) sql += fmt::format(" LIMIT {}", q.limit);
  Stmt st;
  SHOG_CHECK(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr) == SQLITE_OK, ErrorKind::io, path_,
             "audit query: {}", sqlite3_errmsg(db_));
  for (size_t i = 0; i < binds.size(); ++i) {
    if (binds[i].first == 0) sqlite3_bind_int64(st.s, int(i + 1), std::stoll(binds[i].second));
    else sqlite3_bind_text(st.s, int(i + 1), binds[i].second.data(), int(binds[i].second.size()), SQLITE_TRANSIENT);
  }
  std::vector<AuditRecord> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    AuditRecord r;
    r.id = sqlite3_column_int64(st.s, 0);
    r.time_ms = sqlite3_column_int64(st.s, 1);
    r.request_id = col_text(st.s, 2);
    r.deployment = col_text(st.s, 3);
    r.policy = col_text(st.s, 4);
    r.direction = col_text(st.s, 5);
    r.action = col_text(st.s, 6);
    try {
      r.categories = nlohmann::json::parse(col_text(st.s, 7)).get<std::vector<std::string>>();
      r.scores = nlohmann::json::parse(col_text(st.s, 8)).get<std::map<std::string, float>>();
    } catch (const nlohmann::json::exception& e) {
      throw Error(ErrorKind::bad_input, fmt::format("{}: decision {}", path_, r.id), e.what());
    }
    r.key_id = col_text(st.s, 9);
    if (sqlite3_column_type(st.s, 10) != SQLITE_NULL) r.text = col_text(st.s, 10);
    out.push_back(std::move(r));
  }
  SHOG_CHECK(rc == SQLITE_DONE, ErrorKind::io, path_, "audit query: {}", sqlite3_errmsg(db_));
  return out;
}

int64_t AuditLog::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st;
  SHOG_CHECK(sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM decisions", -1, &st.s, nullptr) == SQLITE_OK,
             ErrorKind::io, path_, "audit count: {}", sqlite3_errmsg(db_));
  SHOG_CHECK(sqlite3_step(st.s) == SQLITE_ROW, ErrorKind::io, path_, "audit count: {}", sqlite3_errmsg(db_));
  return sqlite3_column_int64(st.s, 0);
}

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t parse_audit_time(const std::string& s, const std::string& where) {
  if (s.empty()) return 0;
  // An age: digits and one unit.
  if (s.size() >= 2 && std::string("smhd").find(s.back()) != std::string::npos &&
      s.find_first_not_of("0123456789") == s.size() - 1) {
    const int64_t n = std::stoll(s.substr(0, s.size() - 1));
    const int64_t unit = s.back() == 's' ? 1000 : s.back() == 'm' ? 60000 : s.back() == 'h' ? 3600000 : 86400000;
    return now_unix_ms() - n * unit;
  }
  if (s.find_first_not_of("0123456789") == std::string::npos && s.size() > 8) return std::stoll(s) * 1000;
  std::tm tm{};
  int y, mo, d, h = 0, mi = 0, sec = 0;
  char tail[8] = {0};
  const int n = std::sscanf(s.c_str(), "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%7s", &y, &mo, &d, &h, &mi, &sec, tail);
  SHOG_CHECK(n == 3 || n == 6 || (n == 7 && std::string(tail) == "Z"), ErrorKind::invalid_argument, where,
             "'{}' is not a time (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, Unix seconds, or an age like 2h, 7d)", s);
  SHOG_CHECK(mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && sec < 61, ErrorKind::invalid_argument,
             where, "'{}' is not a valid date and time", s);
  tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d, tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
  return int64_t(timegm(&tm)) * 1000;
}

std::string format_utc_ms(int64_t ms) {
  const std::time_t t = std::time_t(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms % 1000));
}

std::string audit_to_jsonl(const std::vector<AuditRecord>& rs) {
  std::string out;
  for (const auto& r : rs) out += r.to_json().dump() + "\n";
  return out;
}

std::string audit_to_csv(const std::vector<AuditRecord>& rs) {
  auto q = [](const std::string& s) {
    std::string o = "\"";
    for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
    return o + "\"";
  };
  std::string out = "id,time,request_id,deployment,policy,direction,action,categories,scores,key_id,text\r\n";
  for (const auto& r : rs) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\r\n", r.id, format_utc_ms(r.time_ms), q(r.request_id),
                       q(r.deployment), q(r.policy), q(r.direction), q(r.action),
                       q(nlohmann::json(r.categories).dump()), q(nlohmann::json(r.scores).dump()), q(r.key_id),
                       r.text ? q(*r.text) : std::string());
  }
  return out;
}

}  // namespace shog
