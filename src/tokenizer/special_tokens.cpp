#include "tokenizer/special_tokens.h"

#include <algorithm>
#include <cstring>

namespace shog {

SpecialTokenMatcher::SpecialTokenMatcher(const std::vector<AddedToken>& tokens) {
  group_.fill(-1);
  for (auto& t : tokens) {
    if (t.text.empty()) continue;
    uint8_t f = uint8_t(t.text[0]);
    if (group_[f] < 0) {
      group_[f] = int16_t(by_first_.size());
      by_first_.emplace_back();
    }
    first_[f] = true;
    by_first_[group_[f]].emplace_back(t.text, t.id);
  }
  for (auto& g : by_first_)
    std::stable_sort(g.begin(), g.end(), [](auto& a, auto& b) { return a.first.size() > b.first.size(); });
  if (by_first_.size() == 1)
    for (int b = 0; b < 256; ++b)
      if (first_[b]) single_first_ = b;
}

bool SpecialTokenMatcher::find(std::string_view text, size_t from, Match& m) const {
  if (by_first_.empty()) return false;
  const char* s = text.data();
  size_t n = text.size();
  for (size_t i = from; i < n;) {
    if (single_first_ >= 0) {
      const void* hit = std::memchr(s + i, single_first_, n - i);
      if (!hit) return false;
      i = size_t(static_cast<const char*>(hit) - s);
    } else {
      while (i < n && !first_[uint8_t(s[i])]) ++i;
      if (i >= n) return false;
    }
    for (auto& [tok, id] : by_first_[group_[uint8_t(s[i])]]) {
      if (tok.size() <= n - i && std::memcmp(s + i, tok.data(), tok.size()) == 0) {
        m = {i, tok.size(), id};
        return true;
      }
    }
    ++i;
  }
  return false;
}

}  // namespace shog
