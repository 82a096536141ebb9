// The split regex that cuts text into pre-tokens before BPE (so merges never
// cross a word/number/whitespace boundary). Run through PCRE2 with its JIT:
// the regex is the encoder's hot loop. Patterns use PCRE2 syntax, which
// accepts the patterns tiktoken and Hugging Face ship (\p{L}, (?i:...),
// lookahead) unchanged.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct pcre2_real_code_8;

namespace shog {

// Well-known split patterns, by name: "gpt2" (= "r50k"), "cl100k" (= "gpt4",
// also Llama 3's), "qwen2" (cl100k with single digits), "o200k".
std::optional<std::string> named_split_pattern(std::string_view name);

class Pretokenizer {
 public:
  // Throws shog::Error (invalid_argument) naming the pattern offset on a bad regex.
  explicit Pretokenizer(std::string pattern);
  ~Pretokenizer();
  Pretokenizer(const Pretokenizer&) = delete;
  Pretokenizer& operator=(const Pretokenizer&) = delete;

  const std::string& pattern() const { return pattern_; }

  // Calls f(piece) for each consecutive piece of `text`, which must be valid
  // UTF-8. Pieces cover the text exactly: any text between two matches (no
  // shipped pattern leaves any) is passed on as a piece of its own, so no
  // byte is ever dropped. Thread-safe.
  template <class F>
  void split(std::string_view text, F&& f) const {
    size_t pos = 0;
    while (pos < text.size()) {
      size_t b, e;
      if (!next_match(text, pos, b, e)) {
        f(text.substr(pos));
        return;
      }
      if (b > pos) f(text.substr(pos, b - pos));
      f(text.substr(b, e - b));
      pos = e;
    }
  }

 private:
  // Finds the next match at or after `pos`; an empty match is widened to one
  // character so that the loop always advances.
  bool next_match(std::string_view text, size_t pos, size_t& b, size_t& e) const;

  std::string pattern_;
  pcre2_real_code_8* code_ = nullptr;
  bool jit_ = false;
};

}  // namespace shog
