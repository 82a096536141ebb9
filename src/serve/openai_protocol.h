// The OpenAI wire format: request bodies of /v1/completions and
// /v1/chat/completions parsed and validated into an ApiRequest, and the
// response, chunk and model-list objects built from results. Nothing here
// knows about models or threads: it maps JSON to values and back.
//
// Validation throws shog::Error (invalid_argument) whose where() is the
// offending parameter ("temperature", "messages[2].content"), which the edge
// reports as the error's `param` (api_error.h).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infer/request.h"
#include "tokenizer/chat_template.h"

namespace shog::serve {

struct ApiRequest {
  bool chat = false;
  std::string model;
  std::vector<ChatMessage> messages;   // chat ("developer" is read as system)
  std::string prompt;                  // completions: text ...
  std::vector<int32_t> prompt_ids;     // ... or token ids (prompt_is_ids)
  bool prompt_is_ids = false;
  // Sampling: unset fields take the deployment's defaults.
  std::optional<float> temperature, top_p, min_p, repetition_penalty, frequency_penalty, presence_penalty;
  std::optional<int64_t> top_k, max_tokens;
  std::optional<uint64_t> seed;
  std::optional<std::vector<std::string>> stop;
  bool ignore_eos = false;  // extension (as vLLM): generate max_tokens regardless of <|eos|>
  bool stream = false, include_usage = false;
};

// Throws shog::Error (invalid_argument) naming the parameter.
ApiRequest parse_chat_request(const nlohmann::json& body);
ApiRequest parse_completion_request(const nlohmann::json& body);

// "stop", "length" or "content_filter" (the API's names; a cancelled or
// failed request never reaches a client as a finish_reason).
const char* api_finish_reason(FinishReason r, bool content_filtered);

struct Usage {
  int64_t prompt_tokens = 0, completion_tokens = 0;
};
nlohmann::json usage_json(const Usage& u);

// What moderation did, reported in the choice as "moderation" (an extension
// field that OpenAI clients ignore and the web page shows).
struct ModerationNote {
  std::string stage;   // "input" or "output"
  std::string action;  // "refuse", "redact", "block", "flag"
  std::vector<std::string> categories;
};
nlohmann::json moderation_json(const ModerationNote& m);

// Identity of one response: "chatcmpl-..." / "cmpl-...", the unix time, the deployment.
struct ResponseHead {
  std::string id;
  int64_t created = 0;
  std::string model;
};

// Non-streaming bodies.
nlohmann::json chat_completion_json(const ResponseHead& h, const std::string& text, const char* finish,
                                    const Usage& u, const std::optional<ModerationNote>& mod);
nlohmann::json completion_json(const ResponseHead& h, const std::string& text, const char* finish, const Usage& u,
                               const std::optional<ModerationNote>& mod);

// Streaming chunks. role: the first chat chunk carries {"role":"assistant"}.
// finish: nullptr until the last chunk. include_usage adds "usage": null.
nlohmann::json chat_chunk_json(const ResponseHead& h, bool role, const std::string* text, const char* finish,
                               bool include_usage, const std::optional<ModerationNote>& mod);
nlohmann::json completion_chunk_json(const ResponseHead& h, const std::string& text, const char* finish,
                                     bool include_usage, const std::optional<ModerationNote>& mod);
// The usage chunk after the last one (stream_options.include_usage): choices [].
nlohmann::json usage_chunk_json(const ResponseHead& h, bool chat, const Usage& u);

// One server-sent event: "data: <json>\n\n". Text that is not valid UTF-8
// (a model can emit any bytes) is replaced, never an error.
std::string sse_event(const nlohmann::json& j);
constexpr const char* kSseDone = "data: [DONE]\n\n";
// A JSON body, with the same UTF-8 replacement.
std::string json_body(const nlohmann::json& j);

}  // namespace shog::serve
