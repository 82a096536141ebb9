#include "moderation/normalizer.h"

#include <algorithm>
#include <array>

#include "tokenizer/utf8.h"

namespace shog {
namespace {

struct FoldEntry {
  uint32_t cp;
  std::array<uint32_t, 3> to;
};
constexpr FoldEntry kFoldTable[] = {
#include "moderation/fold_table.inc"
};

bool in(char32_t c, char32_t lo, char32_t hi) { return c >= lo && c <= hi; }

bool dropped(char32_t c) {
  return c == 0xAD || c == 0x34F || c == 0xFEFF || in(c, 0x200B, 0x200F) || in(c, 0x202A, 0x202E) ||
         in(c, 0x2060, 0x2064) || in(c, 0xFE00, 0xFE0F) || in(c, 0x300, 0x36F) || in(c, 0x1AB0, 0x1AFF) ||
         in(c, 0x1DC0, 0x1DFF) || in(c, 0x20D0, 0x20FF) || in(c, 0xFE20, 0xFE2F) || in(c, 0xE0000, 0xE007F);
}

bool exotic_space(char32_t c) {
  return c == 0xA0 || c == 0x1680 || in(c, 0x2000, 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

char32_t ascii_lower(char32_t c) { return in(c, 'A', 'Z') ? c + 32 : c; }

// Appends the folded form of c (zero to three code points) to out.
void fold_char(char32_t c, std::vector<char32_t>& out) {
  if (c < 0x80) return out.push_back(ascii_lower(c));
  if (dropped(c)) return;
  if (exotic_space(c)) return out.push_back(' ');
  if (c == 0x2018 || c == 0x2019 || c == 0x201B || c == 0x2032) return out.push_back('\'');
  if (c == 0x201C || c == 0x201D || c == 0x201F || c == 0x2033) return out.push_back('"');
  if (in(c, 0x2010, 0x2015) || c == 0x2212) return out.push_back('-');
  if (in(c, 0xFF01, 0xFF5E)) return out.push_back(ascii_lower(c - 0xFEE0));  // fullwidth ASCII
  if (in(c, 0x1D400, 0x1D6A3)) {  // mathematical letters: 13 styles of A-Z a-z
    const uint32_t i = (c - 0x1D400) % 52;
    return out.push_back(char32_t('a' + (i < 26 ? i : i - 26)));
  }
  if (in(c, 0x1D7CE, 0x1D7FF)) return out.push_back(char32_t('0' + (c - 0x1D7CE) % 10));  // mathematical digits
  if (in(c, 0x249C, 0x24B5)) return out.push_back(char32_t('a' + (c - 0x249C)));        // parenthesized
  if (in(c, 0x24B6, 0x24CF)) return out.push_back(char32_t('a' + (c - 0x24B6)));        // circled capitals
  if (in(c, 0x24D0, 0x24E9)) return out.push_back(char32_t('a' + (c - 0x24D0)));        // circled small
  if (in(c, 0x1F130, 0x1F189)) return out.push_back(char32_t('a' + (c - 0x1F130) % 32 % 26));  // squared, negative
  if (in(c, 0x1F1E6, 0x1F1FF)) return out.push_back(char32_t('a' + (c - 0x1F1E6)));      // regional indicators
  auto it = std::lower_bound(std::begin(kFoldTable), std::end(kFoldTable), uint32_t(c),
                             [](const FoldEntry& e, uint32_t v) { return e.cp < v; });
  if (it != std::end(kFoldTable) && it->cp == c) {
    for (uint32_t t : it->to)
      if (t) out.push_back(char32_t(t));
    return;
  }
  out.push_back(c);
}

// Decodes one scalar at p (n bytes left); invalid bytes decode as U+FFFD, one byte.
char32_t decode(const uint8_t* p, size_t n, size_t& len) {
  len = utf8::sequence_length(p, n);
  if (len == 0) {
    len = 1;
    return 0xFFFD;
  }
  if (len == 1) return p[0];
  char32_t c = p[0] & (0xFF >> (len + 1));
  for (size_t i = 1; i < len; ++i) c = (c << 6) | (p[i] & 0x3F);
  return c;
}

void encode(char32_t c, std::string& out) {
  if (c < 0x80) {
    out += char(c);
  } else if (c < 0x800) {
    out += char(0xC0 | (c >> 6));
    out += char(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += char(0xE0 | (c >> 12));
    out += char(0x80 | ((c >> 6) & 0x3F));
    out += char(0x80 | (c & 0x3F));
  } else {
    out += char(0xF0 | (c >> 18));
    out += char(0x80 | ((c >> 12) & 0x3F));
    out += char(0x80 | ((c >> 6) & 0x3F));
    out += char(0x80 | (c & 0x3F));
  }
}

enum class Kind : uint8_t { letter, digit, leet_symbol, space, punct };

Kind kind_of(char32_t c) {
  if (in(c, 'a', 'z')) return Kind::letter;
  if (in(c, '0', '9')) return Kind::digit;
  if (c == '@' || c == '$' || c == '!' || c == '|' || c == '+') return Kind::leet_symbol;
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') return Kind::space;
  if (c < 0x80) return Kind::punct;
  // Non-ASCII: punctuation and symbol blocks separate words; anything else
  // (letters of other scripts) is a letter.
  if (in(c, 0xA1, 0xBF) || c == 0xD7 || c == 0xF7 || in(c, 0x2000, 0x2BFF) || in(c, 0x3000, 0x303F) ||
      in(c, 0xFE30, 0xFE4F) || in(c, 0x1F000, 0x1FAFF) || c == 0xFFFD)
    return Kind::punct;
  return Kind::letter;
}

// Which letters a leet character may stand for.
bool leet_equals(char32_t leet, char32_t letter) {
  switch (leet) {
    case '0': return letter == 'o';
    case '1': return letter == 'i' || letter == 'l';
    case '2': return letter == 'z';
    case '3': return letter == 'e';
    case '4': return letter == 'a';
    case '5': return letter == 's';
    case '6': return letter == 'g' || letter == 'b';
    case '7': return letter == 't';
    case '8': return letter == 'b';
    case '9': return letter == 'g';
    case '@': return letter == 'a';
    case '$': return letter == 's';
    case '!': return letter == 'i';
    case '|': return letter == 'i' || letter == 'l';
    case '+': return letter == 't';
    default: return false;
  }
}

struct FoldedChar {
  char32_t c;
  uint32_t src_begin, src_end;
};

std::vector<FoldedChar> fold_chars(std::string_view text) {
  std::vector<FoldedChar> out;
  out.reserve(text.size());
  std::vector<char32_t> buf;
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  for (size_t i = 0; i < text.size();) {
    size_t len;
    char32_t c = decode(p + i, text.size() - i, len);
    buf.clear();
    fold_char(c, buf);
    for (char32_t f : buf) out.push_back({f, uint32_t(i), uint32_t(i + len)});
    i += len;
  }
  return out;
}

}  // namespace

NormalizedText normalize_text(std::string_view text) {
  NormalizedText t;
  const std::vector<FoldedChar> chars = fold_chars(text);
  for (const auto& fc : chars) {
    const size_t before = t.folded.size();
    encode(fc.c, t.folded);
    for (size_t b = before; b < t.folded.size(); ++b) {
      t.folded_src_begin.push_back(fc.src_begin);
      t.folded_src_end.push_back(fc.src_end);
    }
  }
  t.folded_src_begin.push_back(uint32_t(text.size()));
  t.folded_src_end.push_back(uint32_t(text.size()));

  // Tokens: maximal runs of letters, digits and leet symbols, with symbols
  // trimmed from the ends (a leading '@' or '$' is kept: "@ss", "$ex").
  const size_t n = chars.size();
  auto is_word = [&](size_t i) { return kind_of(chars[i].c) != Kind::space && kind_of(chars[i].c) != Kind::punct; };
  size_t prev_token_len = 0;      // 0: no token yet
  bool space_since_prev = false;  // whitespace between the previous token and this one
  for (size_t i = 0; i < n;) {
    if (!is_word(i)) {
      if (kind_of(chars[i].c) == Kind::space) space_since_prev = true;
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && is_word(j)) ++j;
    size_t b = i, e = j;
    while (b < e && kind_of(chars[b].c) == Kind::leet_symbol &&
           !((chars[b].c == '@' || chars[b].c == '$') && b + 1 < e && kind_of(chars[b + 1].c) != Kind::leet_symbol))
      ++b;
    while (e > b && kind_of(chars[e - 1].c) == Kind::leet_symbol) --e;
    bool has_letter = false;
    for (size_t k = b; k < e; ++k) has_letter |= kind_of(chars[k].c) == Kind::letter;
    // A token of digits keeps only its digits (no symbol stands for a letter there).
    std::vector<size_t> members;
    for (size_t k = b; k < e; ++k)
      if (has_letter || kind_of(chars[k].c) != Kind::leet_symbol) members.push_back(k);
    if (!members.empty()) {
      uint8_t boundary = 2;
      if (prev_token_len > 0) {
        const bool single = prev_token_len == 1 || members.size() == 1;
        boundary = space_since_prev && !single ? 2 : 1;
      }
      for (size_t m = 0; m < members.size(); ++m) {
        const auto& fc = chars[members[m]];
        const bool leet = has_letter && kind_of(fc.c) != Kind::letter;
        t.units.push_back({fc.c, fc.src_begin, fc.src_end, uint8_t(m == 0 ? boundary : 0), leet});
      }
      prev_token_len = members.size();
      space_since_prev = false;
    }
    i = j;
  }
  return t;
}

std::string fold_text(std::string_view text) {
  std::string out;
  for (const auto& fc : fold_chars(text)) encode(fc.c, out);
  return out;
}

PhrasePattern compile_phrase(std::string_view phrase) {
  PhrasePattern p;
  p.text = std::string(phrase);
  for (const auto& u : normalize_text(phrase).units) {
    p.chars.push_back(u.c);
    p.space_before.push_back(p.chars.size() > 1 && u.boundary > 0);
  }
  return p;
}

std::vector<PhraseMatch> find_phrase(const NormalizedText& t, const PhrasePattern& p) {
  std::vector<PhraseMatch> out;
  const size_t m = p.chars.size(), n = t.units.size();
  if (m == 0 || m > n) return out;
  auto same = [](const NormalizedText::Unit& u, char32_t c) { return u.c == c || (u.leet && leet_equals(u.c, c)); };
  for (size_t s = 0; s + m <= n;) {
    bool ok = t.units[s].boundary > 0 && (s + m == n || t.units[s + m].boundary > 0);
    for (size_t j = 0; ok && j < m; ++j) {
      const auto& u = t.units[s + j];
      ok = same(u, p.chars[j]) && (j == 0 || u.boundary < 2 || p.space_before[j]);
    }
    if (ok) {
      out.push_back({t.units[s].src_begin, t.units[s + m - 1].src_end});
      s += m;
    } else {
      ++s;
    }
  }
  return out;
}

}  // namespace shog
