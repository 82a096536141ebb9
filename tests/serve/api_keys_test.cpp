// API keys: created keys verify, revoked and unknown ones do not, only a
// hash is stored, revocation by another connection (another process) takes
// effect at once, and the per-key token bucket allows a burst of R then R
// per minute.
#include <gtest/gtest.h>

#include <regex>

#include "core/error.h"
#include "core/file_io.h"
#include "serve/api_keys.h"
#include "serve/serve_test_util.h"

using namespace shog;
using namespace shog::serve;

TEST(ApiKeys, Sha256MatchesTheStandardVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiKeys, CreateVerifyListRevoke) {
  serve_test::TempDir tmp;
  const std::string db = tmp.path + "/keys.sqlite";
  ApiKeyStore store(db);
  auto a = store.create("alice", "public", 30);
  auto b = store.create("bob", "research", 0);
  EXPECT_TRUE(std::regex_match(a.key, std::regex("shog-[0-9a-f]{8}-[0-9a-f]{40}"))) << a.key;
  EXPECT_NE(a.key, b.key);
  EXPECT_NE(a.info.id, b.info.id);

  auto va = store.verify(a.key);
  ASSERT_TRUE(va);
  EXPECT_EQ(va->id, a.info.id);
  EXPECT_EQ(va->tier, "public");
  EXPECT_EQ(va->rate_limit, 30);
  EXPECT_FALSE(store.verify(a.key + "x"));
  EXPECT_FALSE(store.verify(""));
  EXPECT_FALSE(store.verify("shog-00000000-0000000000000000000000000000000000000000"));

  // Revoked through a second connection, as `shoggoth keys revoke` would from another process.
  {
    ApiKeyStore other(db);
    EXPECT_TRUE(other.revoke(a.info.id));
    EXPECT_FALSE(other.revoke(a.info.id));  // already revoked
    EXPECT_THROW(other.revoke("nosuchid"), Error);
  }
  EXPECT_FALSE(store.verify(a.key));
  EXPECT_TRUE(store.verify(b.key));

  auto all = store.list();
  ASSERT_EQ(all.size(), 2u);
  int revoked = 0;
  for (auto& k : all) revoked += k.revoked_at != 0;
  EXPECT_EQ(revoked, 1);
}

TEST(ApiKeys, OnlyTheHashIsStored) {
  serve_test::TempDir tmp;
  const std::string db = tmp.path + "/keys.sqlite";
  std::string key, secret;
  {
    ApiKeyStore store(db);
    key = store.create("carol", "partner", 0).key;
    secret = key.substr(key.rfind('-') + 1);
  }
  std::string bytes = read_file(db);
  if (file_exists(db + "-wal")) bytes += read_file(db + "-wal");
  EXPECT_EQ(bytes.find(secret), std::string::npos);
  EXPECT_NE(bytes.find(sha256_hex(key)), std::string::npos);
}

TEST(ApiKeys, BadTierAndNameAreRefused) {
  serve_test::TempDir tmp;
  ApiKeyStore store(tmp.path + "/k.sqlite");
  EXPECT_THROW(store.create("x", "bad tier", 0), Error);
  EXPECT_THROW(store.create("", "public", 0), Error);
  EXPECT_THROW(store.create("x", "public", -1), Error);
  EXPECT_THROW(ApiKeyStore("/nonexistent-dir/k.sqlite"), Error);
}

TEST(RateLimiter, BurstThenRetryAfter) {
  RateLimiter rl;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rl.acquire("k", 3), 0) << i;
  int wait = rl.acquire("k", 3);
  EXPECT_GE(wait, 1);
  EXPECT_LE(wait, 20);  // one request per 20 s at 3 per minute
  EXPECT_EQ(rl.acquire("other", 3), 0);  // buckets are per key
  for (int i = 0; i < 100; ++i) EXPECT_EQ(rl.acquire("free", 0), 0);  // 0: unlimited
}
