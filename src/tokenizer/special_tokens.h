// Finding special/added tokens in text before pre-tokenization (Hugging
// Face's rule, and tiktoken's allowed_special="all"): the leftmost
// occurrence wins, and of several starting there the longest.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shog {

struct AddedToken {
  std::string text;
  int32_t id;
  bool special;  // false: an HF "added token" that is not special (e.g. Qwen's <think>)
};

class SpecialTokenMatcher {
 public:
  SpecialTokenMatcher() = default;
  explicit SpecialTokenMatcher(const std::vector<AddedToken>& tokens);

  bool empty() const { return by_first_.empty(); }

  struct Match {
    size_t pos, len;
    int32_t id;
  };
  // The first token occurring at or after `from`; false if none.
  bool find(std::string_view text, size_t from, Match& m) const;

 private:
  std::array<bool, 256> first_{};
  // Candidates grouped by first byte, longest first within a group.
  std::vector<std::vector<std::pair<std::string, int32_t>>> by_first_;
  std::array<int16_t, 256> group_{};
  int single_first_ = -1;  // the only first byte, if all tokens share one: memchr
};

}  // namespace shog
