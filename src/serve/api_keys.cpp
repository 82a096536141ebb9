#include "serve/api_keys.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include <cmath>
#include <ctime>
#include <regex>

#include "core/error.h"

namespace shog::serve {

namespace {

std::string to_hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (size_t i = 0; i < n; ++i) s[2 * i] = d[p[i] >> 4], s[2 * i + 1] = d[p[i] & 15];
  return s;
}

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> b(bytes);
  SHOG_CHECK(RAND_bytes(b.data(), int(bytes)) == 1, ErrorKind::internal, "api keys", "no randomness from OpenSSL");
  return to_hex(b.data(), bytes);
}

// A prepared statement, finalized on scope exit.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  Stmt(sqlite3* db, const char* sql, const std::string& where) {
    SHOG_CHECK(sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK, ErrorKind::io, where, "SQLite: {}",
               sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(s); }
  void text(int i, std::string_view v) { sqlite3_bind_text(s, i, v.data(), int(v.size()), SQLITE_TRANSIENT); }
  void integer(int i, int64_t v) { sqlite3_bind_int64(s, i, v); }
  std::string col_text(int i) const {
    auto* p = sqlite3_column_text(s, i);
    return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
  }
};

ApiKeyInfo row_info(const Stmt& st) {
  ApiKeyInfo k;
  k.id = st.col_text(0);
  k.name = st.col_text(1);
  k.tier = st.col_text(2);
  k.rate_limit = sqlite3_column_int64(st.s, 3);
  k.created_at = sqlite3_column_int64(st.s, 4);
  k.revoked_at = sqlite3_column_int64(st.s, 5);
  return k;
}

constexpr const char* kColumns = "id, name, tier, rate_limit, created_at, COALESCE(revoked_at, 0)";

}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  SHOG_CHECK(EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr) == 1, ErrorKind::internal,
             "api keys", "SHA-256 failed");
  return to_hex(md, n);
}

ApiKeyStore::ApiKeyStore(const std::string& path) : path_(path) {
  int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(ErrorKind::io, path, fmt::format("cannot open the key database: {}", msg));
  }
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL");
  exec(
      "CREATE TABLE IF NOT EXISTS api_keys ("
      " id TEXT PRIMARY KEY,"
      " name TEXT NOT NULL,"
      " tier TEXT NOT NULL,"
      " hash TEXT NOT NULL UNIQUE,"
      " rate_limit INTEGER NOT NULL DEFAULT 0,"
      " created_at INTEGER NOT NULL,"
      " revoked_at INTEGER)");
}

ApiKeyStore::~ApiKeyStore() { sqlite3_close(db_); }

void ApiKeyStore::exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown";
    sqlite3_free(err);
    throw Error(ErrorKind::io, path_, fmt::format("SQLite: {}", m));
  }
}

ApiKeyStore::Created ApiKeyStore::create(const std::string& name, const std::string& tier, int64_t rate_limit) {
  static const std::regex tier_ok("[A-Za-z0-9][A-Za-z0-9._:-]{0,63}");
  SHOG_CHECK(std::regex_match(tier, tier_ok), ErrorKind::invalid_argument, "--tier",
             "\"{}\" is not a valid tier name (letters, digits, '.', '_', ':', '-')", tier);
  SHOG_CHECK(!name.empty() && name.size() <= 200, ErrorKind::invalid_argument, "--name",
             "a key needs a name of 1 to 200 characters");
  SHOG_CHECK(rate_limit >= 0, ErrorKind::invalid_argument, "--rate-limit", "must be >= 0 (0: unlimited), got {}",
             rate_limit);
  std::lock_guard lk(mu_);
  Created c;
  c.info = {random_hex(4), name, tier, rate_limit, int64_t(std::time(nullptr)), 0};
  c.key = "shog-" + c.info.id + "-" + random_hex(20);
  Stmt st(db_, "INSERT INTO api_keys (id, name, tier, hash, rate_limit, created_at) VALUES (?, ?, ?, ?, ?, ?)", path_);
  st.text(1, c.info.id);
  st.text(2, name);
  st.text(3, tier);
  st.text(4, sha256_hex(c.key));
  st.integer(5, rate_limit);
  st.integer(6, c.info.created_at);
  int rc = sqlite3_step(st.s);
  SHOG_CHECK(rc == SQLITE_DONE, ErrorKind::io, path_, "SQLite: {}", sqlite3_errmsg(db_));
  return c;
}

std::vector<ApiKeyInfo> ApiKeyStore::list() const {
  std::lock_guard lk(mu_);
  Stmt st(db_, fmt::format("SELECT {} FROM api_keys ORDER BY created_at, id", kColumns).c_str(), path_);
  std::vector<ApiKeyInfo> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) out.push_back(row_info(st));
  SHOG_CHECK(rc == SQLITE_DONE, ErrorKind::io, path_, "SQLite: {}", sqlite3_errmsg(db_));
  return out;
}

bool ApiKeyStore::revoke(const std::string& id) {
  std::lock_guard lk(mu_);
  Stmt st(db_, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", path_);
  st.integer(1, int64_t(std::time(nullptr)));
  st.text(2, id);
  SHOG_CHECK(sqlite3_step(st.s) == SQLITE_DONE, ErrorKind::io, path_, "SQLite: {}", sqlite3_errmsg(db_));
  if (sqlite3_changes(db_) == 1) return true;
  Stmt q(db_, "SELECT 1 FROM api_keys WHERE id = ?", path_);
  q.text(1, id);
  SHOG_CHECK(sqlite3_step(q.s) == SQLITE_ROW, ErrorKind::invalid_argument, path_, "no key with id \"{}\"", id);
  return false;
}

std::optional<ApiKeyInfo> ApiKeyStore::verify(std::string_view key) const {
  if (key.empty() || key.size() > 256) return std::nullopt;
  const std::string h = sha256_hex(key);
  std::lock_guard lk(mu_);
  Stmt st(db_, fmt::format("SELECT {} FROM api_keys WHERE hash = ?", kColumns).c_str(), path_);
  st.text(1, h);
  int rc = sqlite3_step(st.s);
  if (rc == SQLITE_DONE) return std::nullopt;
  SHOG_CHECK(rc == SQLITE_ROW, ErrorKind::io, path_, "SQLite: {}", sqlite3_errmsg(db_));
  ApiKeyInfo k = row_info(st);
  if (k.revoked_at != 0) return std::nullopt;
  return k;
}

int RateLimiter::acquire(const std::string& key_id, int64_t per_minute) {
  if (per_minute <= 0) return 0;
  const auto now = std::chrono::steady_clock::now();
  const double cap = double(per_minute), per_s = double(per_minute) / 60.0;
  std::lock_guard lk(mu_);
  auto [it, fresh] = buckets_.try_emplace(key_id);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = cap;
  } else {
    b.tokens = std::min(cap, b.tokens + per_s * std::chrono::duration<double>(now - b.last).count());
  }
  b.last = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  return std::max(1, int(std::ceil((1.0 - b.tokens) / per_s)));
}

}  // namespace shog::serve
