// The chat template: a conversation rendered to token ids, with a mask of
// the tokens a model is trained on, and the inverse parse. Layout (format in
// docs/formats.md, "Chat template"):
//
//   <|bos|> <|system|> ...content... <|end|> <|user|> ... <|end|>
//           <|assistant|> ...reply... <|end|> ...
//
// mask = 1 on each assistant reply's content tokens and its <|end|> (the
// model must learn to stop), 0 elsewhere. Content is encoded with specials
// as plain text, so a user typing "<|end|>" cannot forge a turn boundary.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace shog {

enum class ChatRole : uint8_t { system, user, assistant };
const char* chat_role_name(ChatRole r);
ChatRole parse_chat_role(std::string_view s);  // throws invalid_argument

struct ChatMessage {
  ChatRole role;
  std::string content;
  bool operator==(const ChatMessage&) const = default;
};

struct RenderedChat {
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;  // same length as ids
};

class ChatTemplate {
 public:
  // Throws shog::Error (unsupported) if the tokenizer lacks a marker
  // (<|bos|>, <|system|>, <|user|>, <|assistant|>, <|end|>).
  explicit ChatTemplate(Tokenizer tok);

  // `add_generation_prompt` appends <|assistant|> (mask 0) for inference.
  RenderedChat render(const std::vector<ChatMessage>& messages, bool add_generation_prompt = false) const;
  // A plain document as pretraining saw it: <|bos|> then the text, every
  // token after <|bos|> trained (mask 1), no role markers.
  RenderedChat render_text(std::string_view text) const;

  // The inverse of render(messages, false). Throws shog::Error (bad_input)
  // naming the token position on anything render could not have produced.
  std::vector<ChatMessage> parse(std::span<const int32_t> ids) const;

  int32_t end_id() const { return end_; }

 private:
  Tokenizer tok_;
  int32_t bos_, end_, role_[3];
};

}  // namespace shog
