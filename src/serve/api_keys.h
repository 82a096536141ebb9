// API keys: who may call the server, with which tier and rate limit.
//
// Keys are stored in SQLite (one table, docs/api.md "Access"), never in
// clear: only the SHA-256 of the whole key is kept, and the key itself is
// printed once, by `shoggoth keys create`. A salted slow hash (as for
// passwords) buys nothing here: a key is 160 random bits, not something a
// person chose, so no dictionary can guess it and a fast hash keeps the
// lookup per request cheap. The public id inside the key (shog-<id>-<secret>)
// names it in `keys list`, logs and metrics without revealing it.
//
// The server reads the database on every request, so `keys revoke` from
// another process takes effect at once (WAL mode: readers never block the
// writer).
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;

namespace shog::serve {

struct ApiKeyInfo {
  std::string id, name, tier;
  int64_t rate_limit = 0;  // requests per minute; 0: unlimited
  int64_t created_at = 0;  // unix seconds
  int64_t revoked_at = 0;  // 0: active
};

// Lowercase hex SHA-256 (OpenSSL's libcrypto).
std::string sha256_hex(std::string_view data);

class ApiKeyStore {
 public:
  // Opens the database, creating the file and table if needed. Throws
  // shog::Error (io) naming the file.
  explicit ApiKeyStore(const std::string& path);
  ~ApiKeyStore();
  ApiKeyStore(const ApiKeyStore&) = delete;
  ApiKeyStore& operator=(const ApiKeyStore&) = delete;

  struct Created {
    ApiKeyInfo info;
    std::string key;  // shown once; only its hash is stored
  };
  // tier: a name as in a deployment's `tiers`; rate_limit >= 0.
  Created create(const std::string& name, const std::string& tier, int64_t rate_limit);
  std::vector<ApiKeyInfo> list() const;
  // Revokes by id; false if it was already revoked. Throws for an unknown id.
  bool revoke(const std::string& id);
  // The active key with this secret, or nothing (unknown or revoked).
  std::optional<ApiKeyInfo> verify(std::string_view key) const;

  const std::string& path() const { return path_; }

 private:
  void exec(const char* sql) const;
  std::string path_;
  sqlite3* db_ = nullptr;
  mutable std::mutex mu_;
};

// Per-key token buckets: a key with rate_limit R may make R requests in a
// burst and then R per minute (one every 60/R seconds). In memory: a
// restarted server forgets the buckets.
class RateLimiter {
 public:
  // Takes one request from the key's bucket. Returns 0 when allowed, else the
  // whole seconds until one will be (for Retry-After).
  int acquire(const std::string& key_id, int64_t per_minute);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace shog::serve
