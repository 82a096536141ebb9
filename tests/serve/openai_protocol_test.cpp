// The OpenAI wire format: request bodies parse into ApiRequest with every
// bad field refused under its own name (the error's `param`), and
// responses and stream chunks have the shapes OpenAI clients expect.
#include <gtest/gtest.h>

#include "core/error.h"
#include "serve/api_error.h"
#include "serve/openai_protocol.h"

using namespace shog;
using namespace shog::serve;
using json = nlohmann::json;

namespace {

// The param and message of the error parsing `body` raises ("" if none).
std::pair<std::string, std::string> chat_error(const std::string& body) {
  try {
    parse_chat_request(json::parse(body));
  } catch (const std::exception& e) {
    ApiError a = to_api_error(e);
    EXPECT_EQ(a.status, 400) << body;
    return {a.param, a.message};
  }
  return {"", ""};
}

}  // namespace

TEST(OpenAiProtocol, ParsesAChatRequest) {
  ApiRequest r = parse_chat_request(json::parse(R"({
    "model": "chat", "temperature": 0.2, "top_p": 0.9, "max_tokens": 17, "seed": 5, "stop": "END",
    "stream": true, "stream_options": {"include_usage": true}, "user": "u1", "n": 1,
    "messages": [{"role": "developer", "content": "Be brief."},
                 {"role": "user", "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]}]})"));
  EXPECT_TRUE(r.chat);
  EXPECT_EQ(r.model, "chat");
  EXPECT_FLOAT_EQ(*r.temperature, 0.2f);
  EXPECT_EQ(*r.max_tokens, 17);
  EXPECT_EQ(*r.seed, 5u);
  EXPECT_EQ(*r.stop, std::vector<std::string>{"END"});
  EXPECT_TRUE(r.stream && r.include_usage);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].role, ChatRole::system);
  EXPECT_EQ(r.messages[1].content, "Hello");
  EXPECT_FALSE(r.top_k.has_value());
  // null is "not given"
  ApiRequest n = parse_chat_request(json::parse(R"({"model":"m","messages":[{"role":"user","content":"x"}],
    "temperature": null, "max_tokens": null, "stop": null})"));
  EXPECT_FALSE(n.temperature || n.max_tokens || n.stop);
  // max_completion_tokens is the newer name
  EXPECT_EQ(*parse_chat_request(json::parse(R"({"model":"m","messages":[{"role":"user","content":"x"}],
    "max_completion_tokens": 9})")).max_tokens, 9);
}

TEST(OpenAiProtocol, ParsesCompletionPrompts) {
  EXPECT_EQ(parse_completion_request(json::parse(R"({"model":"m","prompt":"Once"})")).prompt, "Once");
  EXPECT_EQ(parse_completion_request(json::parse(R"({"model":"m","prompt":["Once"]})")).prompt, "Once");
  ApiRequest ids = parse_completion_request(json::parse(R"({"model":"m","prompt":[1,2,3]})"));
  EXPECT_TRUE(ids.prompt_is_ids);
  EXPECT_EQ(ids.prompt_ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_TRUE(parse_completion_request(json::parse(R"({"model":"m","prompt":[[4,5]]})")).prompt_is_ids);
  EXPECT_THROW(parse_completion_request(json::parse(R"({"model":"m","prompt":["a","b"]})")), Error);
  EXPECT_THROW(parse_completion_request(json::parse(R"({"model":"m","prompt":[-1]})")), Error);
  EXPECT_THROW(parse_completion_request(json::parse(R"({"model":"m"})")), Error);
  EXPECT_THROW(parse_completion_request(json::parse(R"({"model":"m","prompt":"x","echo":true})")), Error);
  EXPECT_TRUE(parse_completion_request(json::parse(R"({"model":"m","prompt":"x","ignore_eos":true})")).ignore_eos);
}

TEST(OpenAiProtocol, BadFieldsAreRefusedByName) {
  const std::string m = R"("model":"m","messages":[{"role":"user","content":"x"}])";
  struct Case {
    std::string body, param, says;
  } cases[] = {
      {"[1,2]", "", "must be a JSON object"},
      {R"({"messages":[{"role":"user","content":"x"}]})", "model", "missing"},
      {R"({"model":5,"messages":[]})", "model", "must be a string"},
      {R"({"model":"m"})", "messages", "missing"},
      {R"({"model":"m","messages":"hi"})", "messages", "must be an array"},
      {R"({"model":"m","messages":[]})", "messages", "must not be empty"},
      {R"({"model":"m","messages":[{"role":"wizard","content":"x"}]})", "messages[0].role", "not supported"},
      {R"({"model":"m","messages":[{"role":"user"}]})", "messages[0].content", "needs content"},
      {R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]})", "messages[0].content[0].type",
       "only text"},
      {"{" + m + R"(,"temperature":-0.5})", "temperature", "[0, 2]"},
      {"{" + m + R"(,"temperature":"hot"})", "temperature", "must be a number"},
      {"{" + m + R"(,"top_p":0})", "top_p", "(0, 1]"},
      {"{" + m + R"(,"max_tokens":0})", "max_tokens", "[1,"},
      {"{" + m + R"(,"max_tokens":1.5})", "max_tokens", "a fraction"},
      {"{" + m + R"(,"max_tokens":18446744073709551615})", "max_tokens", "must be in"},
      {"{" + m + R"(,"max_tokens":"10"})", "max_tokens", "must be an integer"},
      {"{" + m + R"(,"n":2})", "n", "only n = 1"},
      {"{" + m + R"(,"stop":["a","b","c","d","e"]})", "stop", "at most 4"},
      {"{" + m + R"(,"stop":[""]})", "stop", "must not be empty"},
      {"{" + m + R"(,"stop":7})", "stop", "string or an array"},
      {"{" + m + R"(,"stream":"yes"})", "stream", "true or false"},
      {"{" + m + R"(,"stream_options":{"include_usage":true}})", "stream_options", "only allowed with stream"},
      {"{" + m + R"(,"frequency_penalty":3})", "frequency_penalty", "[-2, 2]"},
      {"{" + m + R"(,"logprobs":true})", "logprobs", "not supported"},
      {"{" + m + R"(,"tools":[{"type":"function"}]})", "tools", "not supported"},
      {"{" + m + R"(,"seed":"x"})", "seed", "must be an integer"},
  };
  for (auto& c : cases) {
    auto [param, msg] = chat_error(c.body);
    EXPECT_EQ(param, c.param) << c.body << " -> " << msg;
    EXPECT_NE(msg.find(c.says), std::string::npos) << c.body << " -> " << msg;
  }
}

TEST(OpenAiProtocol, MalformedJsonIsA400) {
  for (const char* body : {"{", "{\"model\": \"m\",}", "\"\xff\xfe\"", "{\"model\": \"\xc3\x28\"}"}) {
    try {
      json j = json::parse(body);
      ADD_FAILURE() << "parsed: " << body;
    } catch (const std::exception& e) {
      ApiError a = to_api_error(e);
      EXPECT_EQ(a.status, 400);
      EXPECT_EQ(a.code, "invalid_json");
    }
  }
}

TEST(OpenAiProtocol, ResponsesAndChunksHaveOpenAiShapes) {
  ResponseHead h{"chatcmpl-1", 1700000000, "chat"};
  json full = chat_completion_json(h, "Hi!", "stop", {5, 2}, std::nullopt);
  EXPECT_EQ(full["object"], "chat.completion");
  EXPECT_EQ(full["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(full["choices"][0]["message"]["content"], "Hi!");
  EXPECT_EQ(full["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(full["usage"]["total_tokens"], 7);
  EXPECT_FALSE(full["choices"][0].contains("moderation"));

  std::string t = "He";
  json first = chat_chunk_json(h, true, nullptr, nullptr, true, std::nullopt);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"], json({{"role", "assistant"}}));
  EXPECT_TRUE(first["choices"][0]["finish_reason"].is_null());
  EXPECT_TRUE(first.contains("usage") && first["usage"].is_null());
  json mid = chat_chunk_json(h, false, &t, nullptr, false, std::nullopt);
  EXPECT_EQ(mid["choices"][0]["delta"]["content"], "He");
  EXPECT_FALSE(mid.contains("usage"));
  ModerationNote note{"output", "refuse", {"violence"}};
  json last = chat_chunk_json(h, false, nullptr, "content_filter", false, note);
  EXPECT_EQ(last["choices"][0]["delta"], json::object());
  EXPECT_EQ(last["choices"][0]["finish_reason"], "content_filter");
  EXPECT_EQ(last["choices"][0]["moderation"]["categories"][0], "violence");
  json usage = usage_chunk_json(h, true, {3, 4});
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 4);

  json c = completion_json({"cmpl-1", 1, "base"}, "text", "length", {1, 1}, std::nullopt);
  EXPECT_EQ(c["object"], "text_completion");
  EXPECT_EQ(c["choices"][0]["text"], "text");

  EXPECT_EQ(std::string(api_finish_reason(FinishReason::stop_token, false)), "stop");
  EXPECT_EQ(std::string(api_finish_reason(FinishReason::stop_string, false)), "stop");
  EXPECT_EQ(std::string(api_finish_reason(FinishReason::length, false)), "length");
  EXPECT_EQ(std::string(api_finish_reason(FinishReason::length, true)), "content_filter");
}

TEST(OpenAiProtocol, InvalidUtf8FromTheModelIsReplacedNotFatal) {
  std::string bad = "ok \xff\xfe end";
  std::string ev = sse_event(completion_chunk_json({"c", 1, "m"}, bad, nullptr, false, std::nullopt));
  EXPECT_EQ(ev.rfind("data: ", 0), 0u);
  EXPECT_EQ(ev.substr(ev.size() - 2), "\n\n");
  json back = json::parse(ev.substr(6));
  EXPECT_EQ(back["choices"][0]["text"], "ok \xEF\xBF\xBD\xEF\xBF\xBD end");
}

TEST(ApiErrors, MapToStatusesInOnePlace) {
  ApiError e = to_api_error(Error(ErrorKind::invalid_argument, "temperature", "too hot"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "temperature");
  EXPECT_EQ(e.type, "invalid_request_error");
  EXPECT_EQ(to_api_error(Error(ErrorKind::io, "x", "disk")).status, 500);
  EXPECT_EQ(to_api_error(std::runtime_error("boom")).status, 500);
  try {
    throw_http(429, "rate_limit_error", "rate_limit_exceeded", "slow down", "", 7);
  } catch (const std::exception& ex) {
    ApiError a = to_api_error(ex);
    EXPECT_EQ(a.status, 429);
    EXPECT_EQ(a.retry_after_s, 7);
    json j = to_json(a);
    EXPECT_EQ(j["error"]["code"], "rate_limit_exceeded");
    EXPECT_TRUE(j["error"]["param"].is_null());
    EXPECT_EQ(j["error"]["message"], "slow down");
  }
  EXPECT_EQ(api_error_for_status(413).code, "request_too_large");
}
