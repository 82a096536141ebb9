// The JSONL record forms the alignment trainers read, each normalised to
// chat messages. Every reader validates each line and throws shog::Error
// (bad_input) as "<file>:<line>: <what>" on anything malformed.
//
// Accepted forms (as TRL accepts them):
//   conversational   {"messages": [{"role": "user", "content": "..."}, ...]}
//   prompt/completion {"prompt": "..." | [messages], "completion": "..." | [messages]}
//   text             {"text": "..."}  (SFT only: a plain document, loss on every token)
//   preference       {"prompt": ..., "chosen": ..., "rejected": ...}   (explicit prompt)
//                    {"chosen": [messages], "rejected": [messages]}     (implicit prompt:
//                     the shared leading messages are the prompt)
//   HH-RLHF          {"chosen": "\n\nHuman: ...\n\nAssistant: ...", "rejected": "..."}
//   prompt-only      {"prompt": "..." | [messages]}  (plus optional extra fields,
//                     kept verbatim in `meta`, e.g. the synthetic world's checker)
// A string prompt means one user message; a string completion/chosen/rejected
// one assistant message. A prompt given as messages ends with a user turn; a
// continuation given as messages starts with an assistant turn (with an
// explicit prompt it may first repeat the whole prompt, which is dropped).
// An implicit prompt is the longest shared run of leading messages, cut back
// to end with a user turn. Chosen and rejected must differ. Conversations
// ignore extra top-level fields. Full rules: docs/formats.md, "JSONL records".
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/chat_template.h"

namespace shog {

using Messages = std::vector<ChatMessage>;

// SFT: conversational or prompt/completion, or a plain-text document
// (`{"text": ...}`, TRL's language-modelling form), which has no messages
// and is trained on every token, as in pretraining.
struct Conversation {
  Messages messages;
  std::string text;   // non-empty exactly for the text form
  bool is_text() const { return !text.empty(); }
};

struct PreferencePair {
  Messages prompt;                // ends with a user turn
  Messages chosen, rejected;      // the assistant continuation(s)
  nlohmann::json meta;            // other fields of the line (e.g. "category")
};

struct PromptRecord {
  Messages prompt;
  nlohmann::json meta;            // other fields, e.g. {"checker": {...}}
};

std::vector<Conversation> read_conversations(const std::string& path);
std::vector<PreferencePair> read_preferences(const std::string& path);
std::vector<PromptRecord> read_prompts(const std::string& path);

// One record from one parsed line (`where` is "<file>:<line>"), for callers
// that stream. Throw shog::Error(bad_input, where, ...).
Conversation parse_conversation(const nlohmann::json& j, const std::string& where);
PreferencePair parse_preference(const nlohmann::json& j, const std::string& where);
PromptRecord parse_prompt(const nlohmann::json& j, const std::string& where);

}  // namespace shog
