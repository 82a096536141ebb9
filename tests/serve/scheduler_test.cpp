// The model scheduler: requests submitted while others decode join the
// running batch (continuous batching), a cancelled request's KV blocks go
// back to the pool, a full queue refuses with a Retry-After, and a request
// the engine rejects reports the error through its channel.
#include <gtest/gtest.h>

#include <thread>

#include "core/error.h"
#include "serve/scheduler.h"
#include "serve/serve_test_util.h"

using namespace shog;
using namespace shog::serve;
using namespace shog::serve_test;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<Transformer> tiny(int64_t max_seq = 256) {
  ModelConfig c = model_preset("tiny");
  c.max_seq = max_seq;
  auto m = std::make_unique<Transformer>(c);
  m->init_weights(3, 0.1f);
  return m;
}

GenerationRequest request(int max_new, uint64_t seed = 1) {
  GenerationRequest r;
  r.prompt = {1, 2, 3, 4, 5};
  r.params.temperature = 0.8f;
  r.params.seed = seed;
  r.params.max_new_tokens = max_new;
  return r;
}

// Reads a channel to its end; returns the number of tokens.
int64_t drain(RequestChannel& ch) {
  RequestChannel::Progress p;
  while (!p.done) ch.wait(p, 100ms);
  return p.tokens;
}

}  // namespace

TEST(ModelScheduler, RunsRequestsToTheirEnd) {
  auto m = tiny();
  ModelScheduler s("tiny", *m, nullptr, {}, 16, {"d"});
  auto ch = s.submit(request(20), "d", nullptr);
  ASSERT_TRUE(ch);
  EXPECT_EQ(drain(*ch), 20);
  EXPECT_FALSE(ch->error());
  EXPECT_EQ(ch->result().finish, FinishReason::length);
  EXPECT_EQ(ch->result().tokens.size(), 20u);
  EXPECT_TRUE(eventually([&] { return s.snapshot().kv_blocks_used == 0; }));
}

// The requests that must still be running when the test acts are thousands
// of tokens long: a single-thread decode step of the tiny model takes tens of
// microseconds, so a few hundred tokens can be over before the test thread
// is scheduled again.
TEST(ModelScheduler, LateRequestsJoinTheRunningBatch) {
  auto m = tiny(8192);
  EngineOptions o;
  o.max_batch = 8;
  ModelScheduler s("tiny", *m, nullptr, o, 16, {"a", "b"});
  auto first = s.submit(request(8000, 1), "a", nullptr);
  // Wait until the first is decoding, then add more: they must run alongside it.
  RequestChannel::Progress p;
  while (p.tokens < 3) first->wait(p, 100ms);
  std::vector<std::shared_ptr<RequestChannel>> late;
  for (int i = 0; i < 4; ++i) late.push_back(s.submit(request(30, 10 + i), "b", nullptr));
  int64_t most_running = 0, most_b = 0;
  for (int i = 0; i < 3000 && most_running < 5; ++i) {
    auto snap = s.snapshot();
    most_running = std::max(most_running, snap.running);
    most_b = std::max(most_b, snap.deployments["b"].running);
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_GE(most_running, 2) << "late requests did not join the running batch";
  EXPECT_GE(most_b, 1);
  for (auto& ch : late) EXPECT_EQ(drain(*ch), 30);
  // The first one was still running when they finished (it needs 8000 tokens).
  first->cancel();
  drain(*first);
  EXPECT_TRUE(eventually([&] { return s.snapshot().kv_blocks_used == 0; }));
}

TEST(ModelScheduler, CancelFreesTheBlocks) {
  auto m = tiny(8192);
  EngineOptions o;
  o.max_batch = 4;
  ModelScheduler s("tiny", *m, nullptr, o, 64, {"d"});
  std::vector<std::shared_ptr<RequestChannel>> chs;
  for (int i = 0; i < 12; ++i) chs.push_back(s.submit(request(8000, uint64_t(i)), "d", nullptr));
  EXPECT_TRUE(eventually([&] { return s.snapshot().kv_blocks_used > 0; }));
  for (auto& ch : chs) ch->cancel();
  for (auto& ch : chs) {
    drain(*ch);
    EXPECT_EQ(ch->result().finish, FinishReason::cancelled);
  }
  EXPECT_TRUE(eventually([&] {
    auto snap = s.snapshot();
    return snap.kv_blocks_used == 0 && snap.running == 0 && snap.queued == 0;
  }));
}

TEST(ModelScheduler, AFullQueueRefusesWithRetryAfter) {
  auto m = tiny(8192);
  EngineOptions o;
  o.max_batch = 1;
  ModelScheduler s("tiny", *m, nullptr, o, 2, {"d"});
  std::vector<std::shared_ptr<RequestChannel>> chs;
  int refused = 0, retry = 0;
  for (int i = 0; i < 10; ++i) {
    auto ch = s.submit(request(8000, uint64_t(i)), "d", &retry);
    if (ch) chs.push_back(ch);
    else refused++;
  }
  EXPECT_GE(refused, 5);  // one running, two waiting (give or take one being admitted meanwhile)
  EXPECT_GE(retry, 1);
  for (auto& ch : chs) ch->cancel();
  for (auto& ch : chs) drain(*ch);
}

TEST(ModelScheduler, EngineRejectionsComeBackAsErrors) {
  auto m = tiny(64);
  ModelScheduler s("tiny", *m, nullptr, {}, 16, {"d"});
  GenerationRequest r = request(4);
  r.prompt.assign(100, 1);  // longer than the context of 64
  auto ch = s.submit(std::move(r), "d", nullptr);
  drain(*ch);
  ASSERT_TRUE(ch->error());
  try {
    std::rethrow_exception(ch->error());
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("context"), std::string::npos) << e.what();
  }
}
