#include "tokenizer/byte_level.h"

#include <array>
#include <unordered_map>

#include "tokenizer/utf8.h"

namespace shog::byte_level {
namespace {

std::string utf8_of(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
  return s;
}

struct Tables {
  std::array<std::string, 256> to_char;
  std::array<int16_t, 0x200> from_cp;  // all mapped code points are < U+0200
  Tables() {
    from_cp.fill(-1);
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      uint32_t cp = printable ? b : next++;
      to_char[b] = utf8_of(cp);
      from_cp[cp] = int16_t(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const std::string& char_of_byte(uint8_t b) { return tables().to_char[b]; }

std::optional<std::string> decode(std::string_view s) {
  const auto& t = tables();
  std::string out;
  out.reserve(s.size());
  auto p = reinterpret_cast<const uint8_t*>(s.data());
  size_t i = 0, n = s.size();
  while (i < n) {
    size_t len = utf8::sequence_length(p + i, n - i);
    uint32_t cp;
    if (len == 1) cp = p[i];
    else if (len == 2) cp = ((p[i] & 0x1F) << 6) | (p[i + 1] & 0x3F);
    else return std::nullopt;  // 3- and 4-byte characters are never in the alphabet
    if (cp >= t.from_cp.size() || t.from_cp[cp] < 0) return std::nullopt;
    out += char(t.from_cp[cp]);
    i += len;
  }
  return out;
}

std::string encode(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) out += char_of_byte(c);
  return out;
}

}  // namespace shog::byte_level
