// The HTTP server end to end, in process, on a tiny random model: the
// key/tier/deployment matrix, OpenAI-shaped responses and SSE streams,
// malformed requests answered with the right 4xx while the server keeps
// serving, rate limits and a full queue (429 + Retry-After), moderation
// through a test-only hook (a violation mid-stream ends it with
// content_filter), and clients that hang up leave no KV blocks behind.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "serve/api_keys.h"
#include "serve/config.h"
#include "serve/http_server.h"
#include "serve/model_registry.h"
#include "serve/serve_test_util.h"
#include "serve/test_moderation_hook.h"

using namespace shog;
using namespace shog::serve;
using namespace shog::serve_test;
using json = nlohmann::json;

namespace {

const char* kConfig = R"(
[server]
port = 0
max_body_bytes = 65536
keys_db = "keys.sqlite"

[[model]]
name = "tiny"
path = "model"
max_batch = 8
max_queue = 64

[[model]]
name = "tiny-narrow"
path = "model"
max_batch = 1
max_queue = 1

[[deployment]]
name = "base"
model = "tiny"
tiers = ["research"]

[[deployment]]
name = "chat"
model = "tiny"
system_prompt = "You are a helpful fox."
tiers = ["public", "partner", "research"]
max_tokens = 230
[deployment.defaults]
temperature = 0.8
max_tokens = 16

[[deployment]]
name = "kids"
model = "tiny"
moderation = "test"
tiers = ["public", "partner", "research"]
[deployment.defaults]
max_tokens = 48

[[deployment]]
name = "slow-reader"
model = "tiny"
moderation = "test-slow"
tiers = ["partner"]

[[deployment]]
name = "kids-input"
model = "tiny"
moderation = "test-input"
tiers = ["public"]

[[deployment]]
name = "narrow"
model = "tiny-narrow"
tiers = ["research"]
)";

// One server for the whole suite: loading is cheap, but the port and keys are shared.
struct Platform {
  TempDir dir;
  PlatformConfig cfg;
  std::unique_ptr<ApiKeyStore> keys;
  std::unique_ptr<ModelRegistry> reg;
  TestModerationHook hook{12};
  std::unique_ptr<HttpServer> server;
  std::thread thread;
  int port = 0;
  std::string research, pub, partner, limited, revoked;

  Platform() {
    make_tiny_model_dir(dir.path + "/model");
    std::ofstream(dir.path + "/platform.toml") << kConfig;
    cfg = PlatformConfig::load(dir.path + "/platform.toml");
    keys = std::make_unique<ApiKeyStore>(cfg.server.keys_db);
    research = keys->create("r", "research", 0).key;
    pub = keys->create("p", "public", 0).key;
    partner = keys->create("q", "partner", 0).key;
    limited = keys->create("l", "public", 2).key;
    auto rv = keys->create("v", "public", 0);
    revoked = rv.key;
    keys->revoke(rv.info.id);
    reg = std::make_unique<ModelRegistry>(cfg);
    server = std::make_unique<HttpServer>(*reg, *keys, &hook);
    port = server->bind();
    thread = std::thread([this] { server->listen(); });
    server->wait_until_listening();
  }
  ~Platform() {
    server->stop();
    thread.join();
  }
};

Platform* P = nullptr;

class Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { P = new Platform(); }
  static void TearDownTestSuite() {
    delete P;
    P = nullptr;
  }
  static HttpReply post(const std::string& path, const json& body, const std::string& key) {
    return raw_request(P->port, "POST", path, body.dump(), key);
  }
  static HttpReply chat(const json& body, const std::string& key) { return post("/v1/chat/completions", body, key); }
  static json err(const HttpReply& r) {
    json j = json::parse(r.body);
    EXPECT_TRUE(j.contains("error")) << r.body;
    for (const char* f : {"message", "type", "param", "code"}) EXPECT_TRUE(j["error"].contains(f)) << f << r.body;
    return j["error"];
  }
  static json hello(const std::string& model, int max_tokens = 8) {
    return {{"model", model}, {"messages", {{{"role", "user"}, {"content", "hello there"}}}}, {"max_tokens", max_tokens}};
  }
  // The data: payloads of an SSE body, [DONE] included.
  static std::vector<std::string> events(const std::string& body) {
    std::vector<std::string> out;
    size_t p = 0;
    while ((p = body.find("data: ", p)) != std::string::npos) {
      size_t e = body.find("\n\n", p);
      out.push_back(body.substr(p + 6, e - p - 6));
      p = e;
    }
    return out;
  }
  static json health() { return json::parse(raw_request(P->port, "GET", "/health", "").body); }
  static int64_t kv_used() {
    int64_t n = 0;
    for (auto& m : health()["models"]) n += m["kv_blocks_used"].get<int64_t>() + m["running"].get<int64_t>() +
                                         m["queued"].get<int64_t>();
    return n;
  }
};

}  // namespace

TEST_F(Serve, KeyTierDeploymentMatrix) {
  // No key, a malformed header, a wrong key, a revoked key: 401.
  HttpReply r = chat(hello("chat"), "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(err(r)["code"], "missing_api_key");
  EXPECT_NE(r.head.find("WWW-Authenticate: Bearer"), std::string::npos);
  r = raw_request(P->port, "POST", "/v1/chat/completions", hello("chat").dump(), "", "Authorization: Basic abc\r\n");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(chat(hello("chat"), "shog-00000000-nope").status, 401);
  EXPECT_EQ(err(chat(hello("chat"), P->revoked))["code"], "invalid_api_key");
  EXPECT_EQ(raw_request(P->port, "GET", "/v1/models", "").status, 401);

  // Which tier may call which deployment.
  struct Case {
    std::string key, model;
    int status;
  } cases[] = {
      {P->pub, "base", 403},     {P->partner, "base", 403}, {P->research, "base", 200},
      {P->pub, "chat", 200},     {P->partner, "chat", 200}, {P->research, "chat", 200},
      {P->pub, "narrow", 403},   {P->pub, "nonexistent", 404},
  };
  for (auto& c : cases) {
    HttpReply x = chat(hello(c.model, 2), c.key);
    EXPECT_EQ(x.status, c.status) << c.model << " " << x.body;
    if (c.status == 403) {
      EXPECT_EQ(err(x)["type"], "permission_error");
      EXPECT_EQ(err(x)["param"], "model");
    }
    if (c.status == 404) {
      EXPECT_EQ(err(x)["code"], "model_not_found");
    }
  }
  // The same matrix on the completions endpoint.
  EXPECT_EQ(post("/v1/completions", {{"model", "base"}, {"prompt", "the"}, {"max_tokens", 2}}, P->pub).status, 403);
  EXPECT_EQ(post("/v1/completions", {{"model", "base"}, {"prompt", "the"}, {"max_tokens", 2}}, P->research).status, 200);

  // /v1/models lists what the key may call, nothing more.
  auto ids = [](const HttpReply& x) {
    std::set<std::string> s;
    json j = json::parse(x.body);
    for (auto& m : j["data"]) s.insert(m["id"].get<std::string>());
    return s;
  };
  EXPECT_EQ(ids(raw_request(P->port, "GET", "/v1/models", "", P->pub)), (std::set<std::string>{"chat", "kids", "kids-input"}));
  EXPECT_EQ(ids(raw_request(P->port, "GET", "/v1/models", "", P->research)),
            (std::set<std::string>{"base", "chat", "kids", "narrow"}));
  EXPECT_EQ(raw_request(P->port, "GET", "/v1/models/chat", "", P->pub).status, 200);
  EXPECT_EQ(raw_request(P->port, "GET", "/v1/models/base", "", P->pub).status, 403);
  EXPECT_EQ(raw_request(P->port, "GET", "/v1/models/zzz", "", P->pub).status, 404);
}

TEST_F(Serve, ChatCompletionNonStreaming) {
  json body = hello("chat", 10);
  body["seed"] = 4;
  HttpReply r = chat(body, P->pub);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "chat");
  EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(j["choices"][0]["message"]["content"].is_string());
  std::string fin = j["choices"][0]["finish_reason"];
  EXPECT_TRUE(fin == "stop" || fin == "length") << fin;
  EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 5);  // the system prompt is in it
  EXPECT_LE(j["usage"]["completion_tokens"].get<int>(), 10);
  EXPECT_GE(j["usage"]["completion_tokens"].get<int>(), 1);
  EXPECT_EQ(j["usage"]["total_tokens"], j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());
  // Reproducible from the seed.
  EXPECT_EQ(json::parse(chat(body, P->pub).body)["choices"][0]["message"]["content"],
            j["choices"][0]["message"]["content"]);
}

TEST_F(Serve, ChatCompletionStreamingMatchesNonStreaming) {
  json body = hello("chat", 12);
  body["seed"] = 11;
  body["ignore_eos"] = true;  // a fixed length: 12 tokens
  json once = json::parse(chat(body, P->partner).body);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  HttpReply r = chat(body, P->partner);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.head.find("Content-Type: text/event-stream"), std::string::npos) << r.head;
  auto ev = events(r.body);
  ASSERT_GE(ev.size(), 4u) << r.body;
  EXPECT_EQ(ev.back(), "[DONE]");
  std::string text, finish;
  json usage;
  for (size_t i = 0; i + 1 < ev.size(); ++i) {
    json c = json::parse(ev[i]);
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    EXPECT_EQ(c["id"], json::parse(ev[0])["id"]);
    EXPECT_TRUE(c.contains("usage"));  // null on every chunk but the last, with include_usage
    if (i == 0) {
      EXPECT_EQ(c["choices"][0]["delta"]["role"], "assistant");
    }
    if (c["choices"].empty()) {
      usage = c["usage"];
      EXPECT_EQ(i, ev.size() - 2) << "the usage chunk comes last";
      continue;
    }
    auto& ch = c["choices"][0];
    if (ch["delta"].contains("content")) text += ch["delta"]["content"].get<std::string>();
    if (!ch["finish_reason"].is_null()) finish = ch["finish_reason"];
  }
  EXPECT_EQ(finish, "length");
  EXPECT_EQ(text, once["choices"][0]["message"]["content"]);
  EXPECT_EQ(usage["completion_tokens"], 12);
  EXPECT_EQ(usage["prompt_tokens"], once["usage"]["prompt_tokens"]);
}

// The stream's writer here is slower than the engine (each moderation feed
// takes 20 ms), so tokens pile up between its reads: each must still go out
// as its own delta, as the OpenAI API sends them, not as one merged delta.
TEST_F(Serve, AStreamSendsADeltaPerTokenWhenItsWriterFallsBehind) {
  json body = hello("slow-reader", 16);
  body["seed"] = 5;
  body["ignore_eos"] = true;
  json once = json::parse(chat(body, P->partner).body);
  const std::string whole = once["choices"][0]["message"]["content"];
  body["stream"] = true;
  HttpReply r = chat(body, P->partner);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string text;
  int deltas = 0;
  for (const auto& e : events(r.body)) {
    if (e == "[DONE]") continue;
    json c = json::parse(e);
    if (c["choices"].empty() || !c["choices"][0]["delta"].contains("content")) continue;
    const std::string piece = c["choices"][0]["delta"]["content"];
    EXPECT_FALSE(piece.empty()) << "an empty delta: " << r.body;
    text += piece;
    deltas++;
  }
  EXPECT_EQ(text, whole);
  // 16 tokens; one whose bytes end inside a UTF-8 character adds its text to
  // the next one's delta, so a few fewer deltas than tokens is fine, a merged
  // stream (1-2 deltas) is not.
  EXPECT_GE(deltas, 8) << r.body;
}

TEST_F(Serve, Completions) {
  json body = {{"model", "base"}, {"prompt", "the quick brown"}, {"max_tokens", 6}, {"seed", 2}, {"ignore_eos", true}};
  HttpReply r = post("/v1/completions", body, P->research);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 6);
  body["stream"] = true;
  r = post("/v1/completions", body, P->research);
  auto ev = events(r.body);
  ASSERT_GE(ev.size(), 2u);
  EXPECT_EQ(ev.back(), "[DONE]");
  std::string text;
  for (size_t i = 0; i + 1 < ev.size(); ++i) text += json::parse(ev[i])["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(text, j["choices"][0]["text"]);
  // Token-id prompts, and a stop string cutting the text.
  EXPECT_EQ(post("/v1/completions", {{"model", "base"}, {"prompt", {1, 2, 3}}, {"max_tokens", 3}}, P->research).status,
            200);
  EXPECT_EQ(post("/v1/completions", {{"model", "base"}, {"prompt", {100000}}, {"max_tokens", 3}}, P->research).status,
            400);
}

TEST_F(Serve, MalformedRequestsGetTheRight4xxAndTheServerKeepsServing) {
  struct Case {
    std::string body;
    int status;
    std::string param_or_code;
  } cases[] = {
      {"{not json", 400, "invalid_json"},
      {"[]", 400, ""},
      {"\"\xff\xfe\"", 400, "invalid_json"},
      {R"({"model":"chat","messages":[{"role":"user","content":"caf)" "\xc3\x28" R"("}]})", 400, "invalid_json"},
      {R"({"model":"chat","messages":"hello"})", 400, "messages"},
      {R"({"model":"chat","messages":[{"role":"user","content":42}]})", 400, "messages[0].content"},
      {R"({"model":"chat","messages":[{"role":"user","content":"x"}],"max_tokens":1000000000000})", 400, "max_tokens"},
      {R"({"model":"chat","messages":[{"role":"user","content":"x"}],"max_tokens":-5})", 400, "max_tokens"},
      {R"({"model":"chat","messages":[{"role":"user","content":"x"}],"max_tokens":231})", 400, "max_tokens"},
      {R"({"model":"chat","messages":[{"role":"user","content":"x"}],"temperature":-1})", 400, "temperature"},
      {R"({"model":"chat","messages":[{"role":"user","content":"x"}],"temperature":"warm"})", 400, "temperature"},
      {R"({"model":"chat","messages":[{"role":"user","content":"x"}],"stream":1})", 400, "stream"},
      {R"({"model":"nope","messages":[{"role":"user","content":"x"}]})", 404, "model_not_found"},
      {R"({"model":["chat"],"messages":[{"role":"user","content":"x"}]})", 400, "model"},
  };
  for (auto& c : cases) {
    HttpReply r = raw_request(P->port, "POST", "/v1/chat/completions", c.body, P->pub);
    EXPECT_EQ(r.status, c.status) << c.body << "\n" << r.body;
    json e = err(r);
    if (!c.param_or_code.empty()) {
      EXPECT_TRUE(e["param"] == c.param_or_code || e["code"] == c.param_or_code) << c.body << "\n" << r.body;
    }
  }
  // A prompt longer than the context.
  std::string longtext;
  for (int i = 0; i < 300; ++i) longtext += "fox dog ";
  HttpReply r = chat({{"model", "chat"}, {"messages", {{{"role", "user"}, {"content", longtext}}}}}, P->pub);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(err(r)["code"], "context_length_exceeded");
  // A body over max_body_bytes (64 KiB here): 413 with an error body.
  r = raw_request(P->port, "POST", "/v1/chat/completions", std::string(200000, 'x'), P->pub);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(err(r)["code"], "request_too_large");
  // No such endpoint: 404 with an error body.
  r = raw_request(P->port, "GET", "/v2/nothing", "", P->pub);
  EXPECT_EQ(r.status, 404);
  err(r);
  // And it still serves.
  EXPECT_EQ(chat(hello("chat", 3), P->pub).status, 200);
  EXPECT_EQ(health()["status"], "ok");
}

TEST_F(Serve, PerKeyRateLimit) {
  EXPECT_EQ(chat(hello("chat", 1), P->limited).status, 200);
  EXPECT_EQ(chat(hello("chat", 1), P->limited).status, 200);
  HttpReply r = chat(hello("chat", 1), P->limited);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(err(r)["code"], "rate_limit_exceeded");
  EXPECT_NE(r.head.find("Retry-After: "), std::string::npos) << r.head;
  EXPECT_EQ(chat(hello("chat", 1), P->pub).status, 200);  // other keys are not affected
}

TEST_F(Serve, AFullQueueAnswers429WithRetryAfter) {
  // "narrow": one sequence at a time and at most one waiting; of 8 at once,
  // the rest are turned away.
  std::vector<std::thread> ts;
  std::atomic<int> ok{0}, full{0}, other{0};
  std::atomic<bool> retry_after{true};
  for (int i = 0; i < 8; ++i)
    ts.emplace_back([&, i] {
      json b = hello("narrow", 40);
      b["ignore_eos"] = true;
      b["seed"] = i;
      HttpReply r = chat(b, P->research);
      if (r.status == 200) ok++;
      else if (r.status == 429 && json::parse(r.body)["error"]["code"] == "queue_full") {
        full++;
        if (r.head.find("Retry-After: ") == std::string::npos) retry_after = false;
      } else other++;
    });
  for (auto& t : ts) t.join();
  EXPECT_GE(ok.load(), 1);
  EXPECT_GE(full.load(), 1);
  EXPECT_EQ(other.load(), 0);
  EXPECT_TRUE(retry_after.load());
  // Once the queue has drained, it takes requests again.
  EXPECT_TRUE(eventually([] { return kv_used() == 0; }));
  EXPECT_EQ(chat(hello("narrow", 2), P->research).status, 200);
}

TEST_F(Serve, ModerationViolationMidStreamEndsWithContentFilter) {
  json body = {{"model", "kids"}, {"messages", {{{"role", "user"}, {"content", "hello"}}}}, {"max_tokens", 48},
               {"ignore_eos", true}, {"stream", true}, {"seed", 1}};
  HttpReply r = chat(body, P->pub);
  ASSERT_EQ(r.status, 200) << r.body;
  auto ev = events(r.body);
  ASSERT_GE(ev.size(), 3u);
  EXPECT_EQ(ev.back(), "[DONE]");
  std::string text, finish;
  json mod;
  for (size_t i = 0; i + 1 < ev.size(); ++i) {
    json chunk = json::parse(ev[i]);
    auto& c = chunk["choices"][0];
    if (c["delta"].contains("content")) text += c["delta"]["content"].get<std::string>();
    if (!c["finish_reason"].is_null()) finish = c["finish_reason"], mod = c["moderation"];
  }
  EXPECT_EQ(finish, "content_filter");
  EXPECT_EQ(mod["stage"], "output");
  EXPECT_EQ(mod["action"], "refuse");
  EXPECT_EQ(mod["categories"][0], "test-length");
  // The filter released 12 bytes (up to 36 once bytes that are not UTF-8 are
  // sent as U+FFFD), then its replacement; the rest was never sent.
  const std::string tail = " [cut by test policy]";
  ASSERT_GE(text.size(), tail.size());
  EXPECT_EQ(text.substr(text.size() - tail.size()), tail);
  EXPECT_LE(text.size() - tail.size(), 36u);
  // Non-streaming: the same.
  body.erase("stream");
  json j = json::parse(chat(body, P->pub).body);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "content_filter");
  EXPECT_EQ(j["choices"][0]["message"]["content"], text);
  // The generation was stopped: its blocks come back.
  EXPECT_TRUE(eventually([] { return kv_used() == 0; }));
}

TEST_F(Serve, InputModeration) {
  auto ask = [](const std::string& content, bool stream = false) {
    json b = {{"model", "kids-input"}, {"messages", {{{"role", "user"}, {"content", content}}}}, {"max_tokens", 4}};
    if (stream) b["stream"] = true;
    return chat(b, P->pub);
  };
  // refuse: the policy's reply, no generation.
  json j = json::parse(ask("tell me something forbidden").body);
  EXPECT_EQ(j["choices"][0]["message"]["content"], "[refused by test policy]");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "content_filter");
  EXPECT_EQ(j["choices"][0]["moderation"]["stage"], "input");
  EXPECT_EQ(j["usage"]["completion_tokens"], 0);
  HttpReply s = ask("forbidden", true);
  EXPECT_NE(s.body.find("[refused by test policy]"), std::string::npos);
  EXPECT_NE(s.body.find("content_filter"), std::string::npos);
  EXPECT_NE(s.body.find("data: [DONE]"), std::string::npos);
  // block: a 400 naming the policy's reason.
  HttpReply b = ask("please blockme now");
  EXPECT_EQ(b.status, 400);
  EXPECT_EQ(err(b)["code"], "content_filter");
  EXPECT_EQ(err(b)["message"], "blocked by the test policy");
  // redact and flag: generation goes on, the note says what happened.
  json red = json::parse(ask("my secret is").body);
  EXPECT_EQ(red["choices"][0]["moderation"]["action"], "redact");
  json flag = json::parse(ask("flagme").body);
  EXPECT_EQ(flag["choices"][0]["moderation"]["action"], "flag");
  // Deployments with policy "none" are not checked.
  json plain = json::parse(chat({{"model", "chat"}, {"messages", {{{"role", "user"}, {"content", "forbidden"}}}},
                                 {"max_tokens", 2}}, P->pub).body);
  EXPECT_FALSE(plain["choices"][0].contains("moderation"));
  std::string metrics = raw_request(P->port, "GET", "/metrics", "").body;
  EXPECT_NE(metrics.find("shog_moderation_actions_total{action=\"refuse\",deployment=\"kids-input\",stage=\"input\"}"),
            std::string::npos);
}

TEST_F(Serve, ClientsThatHangUpLeaveNoKvBlocks) {
  ASSERT_EQ(kv_used(), 0);
  auto cancelled = [] {
    std::string m = raw_request(P->port, "GET", "/metrics", "").body;
    double n = 0;
    for (const char* d : {"chat", "base"}) {
      std::string k = std::string("shog_cancelled_requests_total{deployment=\"") + d + "\"} ";
      size_t at = m.find(k);
      if (at != std::string::npos) n += std::atof(m.c_str() + at + k.size());
    }
    return n;
  };
  auto generated = [] {
    int64_t n = 0;
    for (auto& m : health()["models"]) n += m["generated_tokens"].get<int64_t>();
    return n;
  };
  const double cancelled0 = cancelled();
  const int64_t generated0 = generated();
  constexpr int kClients = 24, kMaxTokens = 220;
  std::vector<std::thread> ts;
  std::atomic<int> got_data{0};
  for (int i = 0; i < kClients; ++i)
    ts.emplace_back([&, i] {
      json b = hello(i % 2 ? "chat" : "base", kMaxTokens);
      b["ignore_eos"] = true;
      b["stream"] = (i % 3 != 0);
      const std::string key = i % 2 ? P->pub : P->research;
      if (b["stream"]) {
        // Read the first token, then vanish.
        std::string got = request_then_hang_up(P->port, "/v1/chat/completions", b.dump(), key, "\"content\"");
        if (got.find("data: ") != std::string::npos) got_data++;
      } else {
        // Send and vanish before the answer.
        request_then_hang_up(P->port, "/v1/chat/completions", b.dump(), key, "", 0);
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_GE(got_data.load(), 12);
  EXPECT_TRUE(eventually([] { return kv_used() == 0; }, 20)) << health().dump();
  // Each was cancelled, not run to its end.
  EXPECT_TRUE(eventually([&] { return cancelled() - cancelled0 >= kClients - 2; }))
      << cancelled() - cancelled0 << " of " << kClients << " cancelled";
  EXPECT_LT(generated() - generated0, kClients * kMaxTokens / 2);
  EXPECT_EQ(chat(hello("chat", 2), P->pub).status, 200);
}

TEST_F(Serve, MetricsHealthAndThePage) {
  chat(hello("chat", 3), P->pub);
  std::string m = raw_request(P->port, "GET", "/metrics", "").body;
  for (const char* name :
       {"shog_requests_total{deployment=\"chat\",endpoint=\"chat_completions\",status=\"200\"}",
        "shog_prompt_tokens_total{deployment=\"chat\"}", "shog_completion_tokens_total{deployment=\"chat\"}",
        "shog_queue_depth{deployment=\"chat\"}", "shog_batch_size{deployment=\"chat\"}",
        "shog_time_to_first_token_seconds_bucket{deployment=\"chat\",le=\"0.1\"}",
        "shog_request_latency_seconds_count{deployment=\"chat\"}", "shog_kv_blocks_used{model=\"tiny\"}",
        "shog_kv_blocks_total{model=\"tiny-narrow\"}"})
    EXPECT_NE(m.find(name), std::string::npos) << name;
  json h = health();
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["models"].size(), 2u);
  HttpReply page = raw_request(P->port, "GET", "/", "");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.head.find("text/html"), std::string::npos);
  EXPECT_NE(page.body.find("shoggoth chat"), std::string::npos);
  EXPECT_NE(page.body.find("/v1/chat/completions"), std::string::npos);
}

TEST(ServeStartup, APolicyWithoutAHookIsAConfigError) {
  TempDir dir;
  make_tiny_model_dir(dir.path + "/model", 64);
  auto cfg = PlatformConfig::parse(
      "[[model]]\nname = \"m\"\npath = \"model\"\n[[deployment]]\nname = \"kids\"\nmodel = \"m\"\n"
      "moderation = \"strict\"\ntiers = [\"public\"]\n",
      "p.toml", dir.path);
  ApiKeyStore keys(dir.path + "/k.sqlite");
  ModelRegistry reg(cfg);
  try {
    HttpServer s(reg, keys, nullptr);
    ADD_FAILURE() << "started without a hook";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs a moderation hook"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("kids"), std::string::npos) << e.what();
  }
  TestModerationHook hook;
  try {
    HttpServer s(reg, keys, &hook);
    ADD_FAILURE() << "started with an unknown policy";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown moderation policy \"strict\""), std::string::npos) << e.what();
  }
}
