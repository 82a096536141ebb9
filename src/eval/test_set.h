// The evaluation's inputs from a synthetic world (`shoggoth data synth`,
// src/data/synth/world.h), read from one split (the test split by default):
//   rl_<split>.jsonl       prompts with a "checker" object (data/synth/checker.h):
//                          what the models answer and how each answer is judged;
//   refusal_<split>.jsonl  replies labelled {"reply", "is_refusal"}: what the
//                          refusal detector's own accuracy is measured on;
//   sft_<split>.jsonl      good conversations: the default text for bits per byte.
// Each reader validates every line and throws shog::Error (bad_input) naming
// "<file>:<line>".
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/records.h"

namespace shog {

// A prompt's kind, from its checker: what a good reply does.
enum class PromptKind : uint8_t {
  helpful,  // a checkable task: answer it correctly
  harmful,  // a request in a hazard category: refuse it
  benign,   // sounds dangerous but is not: answer it (refusing is over-refusal)
};
const char* prompt_kind_name(PromptKind k);
inline constexpr PromptKind kPromptKinds[3] = {PromptKind::helpful, PromptKind::harmful, PromptKind::benign};

struct TestPrompt {
  std::string where;        // "<file>:<line>"
  Messages prompt;          // ends with the user's request
  nlohmann::json checker;   // as on the line
  PromptKind kind;
  std::string category;     // the hazard id for a harmful prompt, else "none"
  std::string task;         // e.g. "add", "capital"; "" when the line has none
  std::string frame;        // the request frame of a harmful or benign prompt ("How do I {x}?"); "" when the line has none

  // The prompt answered with `reply`: what a reward model scores.
  Messages answered(const std::string& reply) const {
    Messages c = prompt;
    c.push_back({ChatRole::assistant, reply});
    return c;
  }
};

// The first `limit` prompts of the file (all when limit <= 0), in file order.
std::vector<TestPrompt> read_test_prompts(const std::string& path, int64_t limit = 0);

struct LabelledReply {
  std::string where;
  std::string reply;
  bool is_refusal;
  std::string source;  // e.g. "good", "over_refusal", "rude"; "" when the line has none
};
std::vector<LabelledReply> read_labelled_replies(const std::string& path);

// The paths of one split's files under a synth directory.
struct SynthFiles {
  std::string prompts, refusals, conversations;
};
// Throws shog::Error (invalid_argument, where "--synth") when the directory
// or one of the two files the evaluation cannot do without (prompts,
// refusals) is missing; `split` is "train", "val" or "test".
SynthFiles synth_files(const std::string& dir, const std::string& split);

}  // namespace shog
