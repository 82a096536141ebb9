#include "serve/openai_protocol.h"

#include <limits>

#include "core/error.h"

namespace shog::serve {

using json = nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& param, const std::string& msg) {
  throw Error(ErrorKind::invalid_argument, param, msg);
}

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::binary: return "binary";
    case json::value_t::discarded: return "nothing";
    default: return "a number";
  }
}

// A field that is absent or null is "not given" (clients send either).
const json* field(const json& body, const char* key) {
  auto it = body.find(key);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

std::optional<float> number_in(const json& body, const char* key, double lo, double hi, bool lo_open = false) {
  const json* v = field(body, key);
  if (!v) return std::nullopt;
  if (!v->is_number()) bad(key, fmt::format("{} must be a number, got {}", key, type_name(*v)));
  const double x = v->get<double>();
  if (!(lo_open ? x > lo : x >= lo) || !(x <= hi))
    bad(key, fmt::format("{} must be in {}{}, {}], got {}", key, lo_open ? "(" : "[", lo, hi, x));
  return float(x);
}

std::optional<int64_t> integer_in(const json& body, const char* key, int64_t lo, int64_t hi) {
  const json* v = field(body, key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer())
    bad(key, fmt::format("{} must be an integer, got {}", key, v->is_number() ? "a fraction" : type_name(*v)));
  if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
    bad(key, fmt::format("{} must be in [{}, {}], got {}", key, lo, hi, v->dump()));
  const int64_t x = v->get<int64_t>();
  if (x < lo || x > hi) bad(key, fmt::format("{} must be in [{}, {}], got {}", key, lo, hi, x));
  return x;
}

bool boolean(const json& body, const char* key) {
  const json* v = field(body, key);
  if (!v) return false;
  if (!v->is_boolean()) bad(key, fmt::format("{} must be true or false, got {}", key, type_name(*v)));
  return v->get<bool>();
}

void require_object(const json& body) {
  if (!body.is_object()) bad("", fmt::format("the request body must be a JSON object, got {}", type_name(body)));
}

std::string model_of(const json& body) {
  const json* v = field(body, "model");
  if (!v) bad("model", "missing required parameter: model");
  if (!v->is_string()) bad("model", fmt::format("model must be a string, got {}", type_name(*v)));
  return v->get<std::string>();
}

// Options this server does not implement are refused, not silently ignored
// (a client that asks for n = 3 must not get one choice and think it got three).
void refuse_unsupported(const json& body, bool chat) {
  if (auto n = integer_in(body, "n", 1, 128); n && *n != 1) bad("n", "only n = 1 is supported");
  if (auto b = integer_in(body, "best_of", 1, 128); b && *b != 1) bad("best_of", "only best_of = 1 is supported");
  if (chat) {
    if (boolean(body, "logprobs")) bad("logprobs", "logprobs are not supported");
  } else if (const json* v = field(body, "logprobs")) {
    if (!(v->is_number_integer() && v->get<int64_t>() == 0) && !(v->is_boolean() && !v->get<bool>()))
      bad("logprobs", "logprobs are not supported");
  }
  if (field(body, "top_logprobs")) bad("top_logprobs", "top_logprobs is not supported");
  if (boolean(body, "echo")) bad("echo", "echo is not supported");
  if (field(body, "suffix")) bad("suffix", "suffix is not supported");
  for (const char* k : {"tools", "functions", "tool_choice", "function_call"})
    if (const json* v = field(body, k); v && !(v->is_array() && v->empty()))
      bad(k, fmt::format("{} (tool calling) is not supported", k));
  if (const json* v = field(body, "logit_bias"); v && !(v->is_object() && v->empty()))
    bad("logit_bias", "logit_bias is not supported");
  if (const json* v = field(body, "response_format")) {
    if (!v->is_object() || v->value("type", "") != "text")
      bad("response_format", "only response_format {\"type\": \"text\"} is supported");
  }
}

void parse_common(const json& body, ApiRequest& r) {
  r.model = model_of(body);
  r.temperature = number_in(body, "temperature", 0, 2);
  r.top_p = number_in(body, "top_p", 0, 1, true);
  r.min_p = number_in(body, "min_p", 0, 1);
  r.repetition_penalty = number_in(body, "repetition_penalty", 0, 10, true);
  r.frequency_penalty = number_in(body, "frequency_penalty", -2, 2);
  r.presence_penalty = number_in(body, "presence_penalty", -2, 2);
  r.top_k = integer_in(body, "top_k", 0, 1 << 24);
  constexpr int64_t kMaxTokensBound = int64_t(1) << 40;  // the deployment's own limit is checked later
  r.max_tokens = integer_in(body, "max_tokens", 1, kMaxTokensBound);
  if (r.chat)
    if (auto m = integer_in(body, "max_completion_tokens", 1, kMaxTokensBound)) {
      if (r.max_tokens && *r.max_tokens != *m)
        bad("max_completion_tokens", "max_tokens and max_completion_tokens disagree; give one");
      r.max_tokens = m;
    }
  if (const json* v = field(body, "seed")) {
    if (!v->is_number_integer()) bad("seed", fmt::format("seed must be an integer, got {}", type_name(*v)));
    r.seed = v->is_number_unsigned() ? v->get<uint64_t>() : uint64_t(v->get<int64_t>());
  }
  if (const json* v = field(body, "stop")) {
    std::vector<std::string> stops;
    if (v->is_string()) {
      stops.push_back(v->get<std::string>());
    } else if (v->is_array()) {
      if (v->size() > 4) bad("stop", fmt::format("at most 4 stop sequences, got {}", v->size()));
      for (size_t i = 0; i < v->size(); ++i) {
        if (!(*v)[i].is_string()) bad("stop", fmt::format("stop[{}] must be a string", i));
        stops.push_back((*v)[i].get<std::string>());
      }
    } else {
      bad("stop", fmt::format("stop must be a string or an array of strings, got {}", type_name(*v)));
    }
    for (auto& s : stops)
      if (s.empty()) bad("stop", "stop sequences must not be empty");
    r.stop = std::move(stops);
  }
  r.ignore_eos = boolean(body, "ignore_eos");
  r.stream = boolean(body, "stream");
  if (const json* so = field(body, "stream_options")) {
    if (!so->is_object()) bad("stream_options", "stream_options must be an object");
    if (!r.stream) bad("stream_options", "stream_options is only allowed with stream: true");
    if (const json* iu = field(*so, "include_usage")) {
      if (!iu->is_boolean()) bad("stream_options.include_usage", "include_usage must be true or false");
      r.include_usage = iu->get<bool>();
    }
  }
  if (const json* u = field(body, "user"); u && !u->is_string()) bad("user", "user must be a string");
  refuse_unsupported(body, r.chat);
}

std::string message_text(const json& content, const std::string& where) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) bad(where, fmt::format("content must be a string or an array of text parts, got {}", type_name(content)));
  std::string out;
  for (size_t i = 0; i < content.size(); ++i) {
    const json& part = content[i];
    const std::string pw = fmt::format("{}[{}]", where, i);
    if (!part.is_object()) bad(pw, "a content part must be an object");
    auto t = part.find("type");
    if (t == part.end() || !t->is_string() || *t != "text") bad(pw + ".type", "only text content parts are supported");
    auto x = part.find("text");
    if (x == part.end() || !x->is_string()) bad(pw + ".text", "a text part needs a string \"text\"");
    out += x->get<std::string>();
  }
  return out;
}

}  // namespace

ApiRequest parse_chat_request(const json& body) {
  require_object(body);
  ApiRequest r;
  r.chat = true;
  parse_common(body, r);
  const json* msgs = field(body, "messages");
  if (!msgs) bad("messages", "missing required parameter: messages");
  if (!msgs->is_array()) bad("messages", fmt::format("messages must be an array, got {}", type_name(*msgs)));
  if (msgs->empty()) bad("messages", "messages must not be empty");
  for (size_t i = 0; i < msgs->size(); ++i) {
    const json& m = (*msgs)[i];
    const std::string w = fmt::format("messages[{}]", i);
    if (!m.is_object()) bad(w, fmt::format("{} must be an object, got {}", w, type_name(m)));
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) bad(w + ".role", "a message needs a string role");
    std::string rs = role->get<std::string>();
    ChatRole cr;
    if (rs == "system" || rs == "developer") cr = ChatRole::system;
    else if (rs == "user") cr = ChatRole::user;
    else if (rs == "assistant") cr = ChatRole::assistant;
    else bad(w + ".role", fmt::format("role \"{}\" is not supported (system, developer, user, assistant)", rs));
    auto content = m.find("content");
    if (content == m.end() || content->is_null()) bad(w + ".content", "a message needs content");
    r.messages.push_back({cr, message_text(*content, w + ".content")});
  }
  return r;
}

ApiRequest parse_completion_request(const json& body) {
  require_object(body);
  ApiRequest r;
  r.chat = false;
  parse_common(body, r);
  const json* p = field(body, "prompt");
  if (!p) bad("prompt", "missing required parameter: prompt");
  auto ids = [&](const json& a) {
    std::vector<int32_t> out;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_number_integer() || a[i].get<int64_t>() < 0 || a[i].get<int64_t>() > INT32_MAX)
        bad("prompt", fmt::format("prompt[{}] is not a token id", i));
      out.push_back(int32_t(a[i].get<int64_t>()));
    }
    if (out.empty()) bad("prompt", "the prompt must not be empty");
    return out;
  };
  if (p->is_string()) {
    r.prompt = p->get<std::string>();
  } else if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
    r.prompt = (*p)[0].get<std::string>();
  } else if (p->is_array() && !p->empty() && (*p)[0].is_number()) {
    r.prompt_ids = ids(*p);
    r.prompt_is_ids = true;
  } else if (p->is_array() && p->size() == 1 && (*p)[0].is_array()) {
    r.prompt_ids = ids((*p)[0]);
    r.prompt_is_ids = true;
  } else if (p->is_array() && p->size() > 1) {
    bad("prompt", "only one prompt per request is supported");
  } else {
    bad("prompt", fmt::format("prompt must be a string, an array of one string or of token ids, got {}", type_name(*p)));
  }
  return r;
}

const char* api_finish_reason(FinishReason r, bool content_filtered) {
  if (content_filtered) return "content_filter";
  switch (r) {
    case FinishReason::length: return "length";
    default: return "stop";
  }
}

json usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

json moderation_json(const ModerationNote& m) {
  return {{"stage", m.stage}, {"action", m.action}, {"categories", m.categories}};
}

static json head_json(const ResponseHead& h, const char* object) {
  return {{"id", h.id}, {"object", object}, {"created", h.created}, {"model", h.model}};
}

json chat_completion_json(const ResponseHead& h, const std::string& text, const char* finish, const Usage& u,
                          const std::optional<ModerationNote>& mod) {
  json j = head_json(h, "chat.completion");
  json choice = {{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", text}}},
                 {"logprobs", nullptr},
                 {"finish_reason", finish}};
  if (mod) choice["moderation"] = moderation_json(*mod);
  j["choices"] = json::array({choice});
  j["usage"] = usage_json(u);
  return j;
}

json completion_json(const ResponseHead& h, const std::string& text, const char* finish, const Usage& u,
                     const std::optional<ModerationNote>& mod) {
  json j = head_json(h, "text_completion");
  json choice = {{"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", finish}};
  if (mod) choice["moderation"] = moderation_json(*mod);
  j["choices"] = json::array({choice});
  j["usage"] = usage_json(u);
  return j;
}

json chat_chunk_json(const ResponseHead& h, bool role, const std::string* text, const char* finish,
                     bool include_usage, const std::optional<ModerationNote>& mod) {
  json j = head_json(h, "chat.completion.chunk");
  json delta = json::object();
  if (role) delta["role"] = "assistant";
  if (text) delta["content"] = *text;
  json choice = {{"index", 0}, {"delta", delta}, {"logprobs", nullptr},
                 {"finish_reason", finish ? json(finish) : json(nullptr)}};
  if (mod) choice["moderation"] = moderation_json(*mod);
  j["choices"] = json::array({choice});
  if (include_usage) j["usage"] = nullptr;
  return j;
}

json completion_chunk_json(const ResponseHead& h, const std::string& text, const char* finish, bool include_usage,
                           const std::optional<ModerationNote>& mod) {
  json j = head_json(h, "text_completion");
  json choice = {{"index", 0}, {"text", text}, {"logprobs", nullptr},
                 {"finish_reason", finish ? json(finish) : json(nullptr)}};
  if (mod) choice["moderation"] = moderation_json(*mod);
  j["choices"] = json::array({choice});
  if (include_usage) j["usage"] = nullptr;
  return j;
}

json usage_chunk_json(const ResponseHead& h, bool chat, const Usage& u) {
  json j = head_json(h, chat ? "chat.completion.chunk" : "text_completion");
  j["choices"] = json::array();
  j["usage"] = usage_json(u);
  return j;
}

std::string json_body(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string sse_event(const json& j) { return "data: " + json_body(j) + "\n\n"; }

}  // namespace shog::serve
