// The JSONL record readers (forms and rules in records.h and docs/formats.md,
// "JSONL records"). Each parser checks one line completely and throws at its
// "<file>:<line>", naming the field and message, so a bad record is fixed by
// reading one error rather than by debugging a trainer.
#include "data/records.h"

#include <algorithm>

#include "core/error.h"
#include "data/jsonl.h"

namespace shog {
namespace {

using nlohmann::json;

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\n' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\n' || s[e - 1] == '\r')) --e;
  return s.substr(b, e - b);
}

const json& field(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  SHOG_CHECK(it != j.end(), ErrorKind::bad_input, where, "missing field \"{}\"", key);
  return *it;
}

ChatRole role_of(const json& r, const std::string& where, std::string_view ctx) {
  SHOG_CHECK(r.is_string(), ErrorKind::bad_input, where, "{}: \"role\" is a {}, not a string", ctx, r.type_name());
  auto s = r.get_ref<const std::string&>();
  if (s == "system") return ChatRole::system;
  if (s == "user") return ChatRole::user;
  if (s == "assistant") return ChatRole::assistant;
  throw Error(ErrorKind::bad_input, where,
              fmt::format("{}: unknown role \"{}\" (expected system, user or assistant)", ctx, s));
}

// A list of {"role", "content"} objects; other keys of a message are ignored.
Messages parse_messages(const json& v, const std::string& where, std::string_view name) {
  SHOG_CHECK(v.is_array(), ErrorKind::bad_input, where, "field \"{}\" is a {}, not a list of messages", name,
             v.type_name());
  SHOG_CHECK(!v.empty(), ErrorKind::bad_input, where, "field \"{}\" is an empty list of messages", name);
  Messages out;
  for (size_t i = 0; i < v.size(); ++i) {
    auto ctx = fmt::format("field \"{}\", message {}", name, i + 1);
    const json& m = v[i];
    SHOG_CHECK(m.is_object(), ErrorKind::bad_input, where, "{}: expected an object, got {}", ctx, m.type_name());
    auto r = m.find("role");
    SHOG_CHECK(r != m.end(), ErrorKind::bad_input, where, "{}: missing \"role\"", ctx);
    ChatRole role = role_of(*r, where, ctx);
    auto c = m.find("content");
    SHOG_CHECK(c != m.end(), ErrorKind::bad_input, where, "{}: missing \"content\"", ctx);
    SHOG_CHECK(c->is_string(), ErrorKind::bad_input, where, "{}: \"content\" is a {}, not a string", ctx,
               c->type_name());
    SHOG_CHECK(!is_blank(c->get_ref<const std::string&>()), ErrorKind::bad_input, where, "{}: empty content", ctx);
    out.push_back({role, c->get<std::string>()});
  }
  return out;
}

std::string text_of(const json& v, const std::string& where, std::string_view name) {
  SHOG_CHECK(v.is_string(), ErrorKind::bad_input, where, "field \"{}\" is a {}, not a string or a list of messages",
             name, v.type_name());
  SHOG_CHECK(!is_blank(v.get_ref<const std::string&>()), ErrorKind::bad_input, where, "field \"{}\" is empty", name);
  return v.get<std::string>();
}

// A prompt: a string (one user message) or messages ending with a user turn.
Messages prompt_of(const json& v, const std::string& where, std::string_view name) {
  if (!v.is_array()) return {{ChatRole::user, text_of(v, where, name)}};
  Messages m = parse_messages(v, where, name);
  SHOG_CHECK(m.back().role == ChatRole::user, ErrorKind::bad_input, where,
             "field \"{}\" ends with a {} message; a prompt ends with a user turn", name,
             chat_role_name(m.back().role));
  return m;
}

// A continuation: a string (one assistant message) or messages starting with
// an assistant turn.
Messages reply_of(const json& v, const std::string& where, std::string_view name) {
  if (!v.is_array()) return {{ChatRole::assistant, text_of(v, where, name)}};
  Messages m = parse_messages(v, where, name);
  SHOG_CHECK(m.front().role == ChatRole::assistant, ErrorKind::bad_input, where,
             "field \"{}\" starts with a {} message; it must hold the assistant's continuation", name,
             chat_role_name(m.front().role));
  return m;
}

// "\n\nHuman: ...\n\nAssistant: ..." (Anthropic HH-RLHF) into alternating
// user/assistant messages, starting with Human and ending with Assistant.
Messages parse_hh(const std::string& s, const std::string& where, std::string_view name) {
  static constexpr std::string_view kHuman = "\n\nHuman:", kAssistant = "\n\nAssistant:";
  std::string text = s;
  std::string_view lead = trim(text);
  if (lead.starts_with("Human:")) text = "\n\n" + std::string(lead);
  SHOG_CHECK(std::string_view(text).starts_with(kHuman), ErrorKind::bad_input, where,
             "field \"{}\" is not an HH-RLHF dialogue: it must start with \"\\n\\nHuman:\"", name);
  Messages out;
  size_t pos = 0;
  while (pos < text.size()) {
    bool human = std::string_view(text).substr(pos).starts_with(kHuman);
    size_t body = pos + (human ? kHuman.size() : kAssistant.size());
    size_t next = std::min(text.find(kHuman, body), text.find(kAssistant, body));
    if (next == std::string::npos) next = text.size();
    size_t turn = out.size() + 1;
    ChatRole want = turn % 2 == 1 ? ChatRole::user : ChatRole::assistant;
    SHOG_CHECK((human ? ChatRole::user : ChatRole::assistant) == want, ErrorKind::bad_input, where,
               "field \"{}\": HH-RLHF turn {} is {} where {} was expected (turns must alternate Human, Assistant)",
               name, turn, human ? "Human" : "Assistant", want == ChatRole::user ? "Human" : "Assistant");
    std::string_view content = trim(std::string_view(text).substr(body, next - body));
    SHOG_CHECK(!content.empty(), ErrorKind::bad_input, where, "field \"{}\": HH-RLHF turn {} ({}) is empty", name,
               turn, human ? "Human" : "Assistant");
    out.push_back({want, std::string(content)});
    pos = next;
  }
  SHOG_CHECK(out.back().role == ChatRole::assistant, ErrorKind::bad_input, where,
             "field \"{}\": HH-RLHF dialogue ends with a Human turn; it must end with the Assistant's reply", name);
  return out;
}

nlohmann::json meta_without(const json& j, std::initializer_list<const char*> keys) {
  json meta = json::object();
  for (auto it = j.begin(); it != j.end(); ++it)
    if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return it.key() == k; })) meta[it.key()] = *it;
  return meta;
}

// Implicit prompt: the longest shared leading messages, cut back to end with
// a user turn; what follows must start with the assistant in both.
void split_implicit(PreferencePair& p, Messages chosen, Messages rejected, const std::string& where) {
  size_t n = 0;
  while (n < chosen.size() && n < rejected.size() && chosen[n] == rejected[n]) ++n;
  while (n > 0 && chosen[n - 1].role != ChatRole::user) --n;
  SHOG_CHECK(n > 0, ErrorKind::bad_input, where,
             "chosen and rejected share no leading prompt ending with a user turn (they differ from message 1)");
  for (const Messages* m : {&chosen, &rejected}) {
    const char* name = m == &chosen ? "chosen" : "rejected";
    SHOG_CHECK(m->size() > n, ErrorKind::bad_input, where, "\"{}\" has no reply after the shared prompt", name);
    SHOG_CHECK((*m)[n].role == ChatRole::assistant, ErrorKind::bad_input, where,
               "prompt mismatch: chosen and rejected differ at message {}, a {} turn; they may differ only from "
               "the assistant's reply on",
               n + 1, chat_role_name((*m)[n].role));
  }
  p.prompt.assign(chosen.begin(), chosen.begin() + long(n));
  p.chosen.assign(chosen.begin() + long(n), chosen.end());
  p.rejected.assign(rejected.begin() + long(n), rejected.end());
}

// With an explicit prompt, a message-list continuation may repeat the whole
// prompt first (as some datasets store full conversations); it is dropped.
Messages continuation(const json& v, const Messages& prompt, const std::string& where, const char* name) {
  if (v.is_array()) {
    Messages m = parse_messages(v, where, name);
    if (m.size() > prompt.size() && std::equal(prompt.begin(), prompt.end(), m.begin()))
      return Messages(m.begin() + long(prompt.size()), m.end());
    SHOG_CHECK(m.front().role == ChatRole::assistant, ErrorKind::bad_input, where,
               "prompt mismatch: field \"{}\" starts with a {} message that is not the given prompt; it must hold "
               "the assistant's continuation (or repeat the prompt exactly)",
               name, chat_role_name(m.front().role));
    return m;
  }
  return reply_of(v, where, name);
}

template <class R, class F>
std::vector<R> read_all(const std::string& path, F parse) {
  std::vector<R> out;
  for_each_jsonl(path, [&](const json& j, const std::string& where) { out.push_back(parse(j, where)); });
  return out;
}

}  // namespace

Conversation parse_conversation(const json& j, const std::string& where) {
  SHOG_CHECK(j.is_object(), ErrorKind::bad_input, where, "expected a JSON object, got {}", j.type_name());
  Conversation c;
  if (j.contains("text") && !j.contains("messages") && !j.contains("prompt") && !j.contains("completion")) {
    const json& t = j["text"];
    SHOG_CHECK(t.is_string(), ErrorKind::bad_input, where, "\"text\" must be a string, got {}", t.type_name());
    c.text = t.get<std::string>();
    SHOG_CHECK(c.text.find_first_not_of(" \t\r\n") != std::string::npos, ErrorKind::bad_input, where,
               "\"text\" is blank");
    return c;
  }
  if (j.contains("messages")) {
    SHOG_CHECK(!j.contains("prompt") && !j.contains("completion"), ErrorKind::bad_input, where,
               "both \"messages\" and \"prompt\"/\"completion\": use one form");
    c.messages = parse_messages(j["messages"], where, "messages");
  } else {
    SHOG_CHECK(j.contains("prompt") || j.contains("completion"), ErrorKind::bad_input, where,
               "missing field \"messages\" (or \"prompt\" and \"completion\", or \"text\")");
    c.messages = prompt_of(field(j, "prompt", where), where, "prompt");
    Messages done = reply_of(field(j, "completion", where), where, "completion");
    c.messages.insert(c.messages.end(), done.begin(), done.end());
  }
  SHOG_CHECK(std::any_of(c.messages.begin(), c.messages.end(),
                         [](const ChatMessage& m) { return m.role == ChatRole::assistant; }),
             ErrorKind::bad_input, where, "the conversation has no assistant message to train on");
  return c;
}

PreferencePair parse_preference(const json& j, const std::string& where) {
  SHOG_CHECK(j.is_object(), ErrorKind::bad_input, where, "expected a JSON object, got {}", j.type_name());
  const json& chosen = field(j, "chosen", where);
  const json& rejected = field(j, "rejected", where);
  PreferencePair p;
  if (j.contains("prompt")) {
    p.prompt = prompt_of(j["prompt"], where, "prompt");
    p.chosen = continuation(chosen, p.prompt, where, "chosen");
    p.rejected = continuation(rejected, p.prompt, where, "rejected");
  } else if (chosen.is_string() && rejected.is_string()) {
    split_implicit(p, parse_hh(chosen.get<std::string>(), where, "chosen"),
                   parse_hh(rejected.get<std::string>(), where, "rejected"), where);
  } else {
    SHOG_CHECK(chosen.is_array() && rejected.is_array(), ErrorKind::bad_input, where,
               "without a \"prompt\", \"chosen\" and \"rejected\" must both be message lists (implicit prompt) or "
               "both HH-RLHF strings; got {} and {}",
               chosen.type_name(), rejected.type_name());
    split_implicit(p, parse_messages(chosen, where, "chosen"), parse_messages(rejected, where, "rejected"), where);
  }
  SHOG_CHECK(p.chosen != p.rejected, ErrorKind::bad_input, where, "chosen and rejected are identical");
  p.meta = meta_without(j, {"prompt", "chosen", "rejected"});
  return p;
}

PromptRecord parse_prompt(const json& j, const std::string& where) {
  SHOG_CHECK(j.is_object(), ErrorKind::bad_input, where, "expected a JSON object, got {}", j.type_name());
  PromptRecord r;
  r.prompt = prompt_of(field(j, "prompt", where), where, "prompt");
  r.meta = meta_without(j, {"prompt"});
  return r;
}

std::vector<Conversation> read_conversations(const std::string& path) {
  return read_all<Conversation>(path, parse_conversation);
}
std::vector<PreferencePair> read_preferences(const std::string& path) {
  return read_all<PreferencePair>(path, parse_preference);
}
std::vector<PromptRecord> read_prompts(const std::string& path) { return read_all<PromptRecord>(path, parse_prompt); }

}  // namespace shog
