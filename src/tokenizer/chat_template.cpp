#include "tokenizer/chat_template.h"

#include "core/error.h"

namespace shog {

static constexpr const char* kRoleMarker[3] = {"<|system|>", "<|user|>", "<|assistant|>"};

const char* chat_role_name(ChatRole r) {
  switch (r) {
    case ChatRole::system: return "system";
    case ChatRole::user: return "user";
    case ChatRole::assistant: return "assistant";
  }
  return "?";
}

ChatRole parse_chat_role(std::string_view s) {
  if (s == "system") return ChatRole::system;
  if (s == "user") return ChatRole::user;
  if (s == "assistant") return ChatRole::assistant;
  throw Error(ErrorKind::invalid_argument, "chat message role",
              fmt::format("\"{}\" is not one of system, user, assistant", s));
}

ChatTemplate::ChatTemplate(Tokenizer tok) : tok_(std::move(tok)) {
  auto need = [&](const char* text) {
    auto id = tok_.special_id(text);
    SHOG_CHECK(id.has_value(), ErrorKind::unsupported, "chat template",
               "the tokenizer has no special token {}; train one with shoggoth's default specials", text);
    return *id;
  };
  bos_ = need("<|bos|>");
  end_ = need("<|end|>");
  for (int r = 0; r < 3; ++r) role_[r] = need(kRoleMarker[r]);
}

RenderedChat ChatTemplate::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const {
  RenderedChat out;
  auto put = [&](int32_t id, uint8_t m) {
    out.ids.push_back(id);
    out.mask.push_back(m);
  };
  put(bos_, 0);
  for (auto& msg : messages) {
    uint8_t train = msg.role == ChatRole::assistant ? 1 : 0;
    put(role_[int(msg.role)], 0);
    for (int32_t id : tok_.encode(msg.content)) put(id, train);
    put(end_, train);
  }
  if (add_generation_prompt) put(role_[int(ChatRole::assistant)], 0);
  return out;
}

RenderedChat ChatTemplate::render_text(std::string_view text) const {
  RenderedChat out;
  out.ids.push_back(bos_);
  for (int32_t id : tok_.encode(text)) out.ids.push_back(id);
  out.mask.assign(out.ids.size(), 1);
  out.mask[0] = 0;
  return out;
}

std::vector<ChatMessage> ChatTemplate::parse(std::span<const int32_t> ids) const {
  auto where = [](size_t i) { return fmt::format("chat tokens: position {}", i); };
  SHOG_CHECK(!ids.empty() && ids[0] == bos_, ErrorKind::bad_input, where(0), "does not start with <|bos|>");
  std::vector<ChatMessage> out;
  size_t i = 1;
  while (i < ids.size()) {
    int role = -1;
    for (int r = 0; r < 3; ++r)
      if (ids[i] == role_[r]) role = r;
    SHOG_CHECK(role >= 0, ErrorKind::bad_input, where(i), "expected a role marker, found token {}", ids[i]);
    size_t b = ++i;
    while (i < ids.size() && ids[i] != end_) {
      SHOG_CHECK(!tok_.is_special(ids[i]), ErrorKind::bad_input, where(i), "special token {} inside a message",
                 ids[i]);
      ++i;
    }
    SHOG_CHECK(i < ids.size(), ErrorKind::bad_input, where(b - 1), "message is not closed by <|end|>");
    out.push_back({ChatRole(role), tok_.decode(ids.subspan(b, i - b))});
    ++i;
  }
  return out;
}

}  // namespace shog
