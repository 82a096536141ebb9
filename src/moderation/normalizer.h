// Normalisation against obfuscation, before any rule is matched.
//
// Two views of a text, each position mapped back to the input's bytes (so a
// match can be redacted in the original):
//
//   folded   every character folded to a canonical look-alike: ASCII case,
//            fullwidth and mathematical letters, circled/squared letters,
//            accents (NFKD minus marks), ligatures, Greek/Cyrillic letters
//            that look Latin (scripts/gen_fold_table.py), invisible
//            characters dropped, exotic spaces to ' '. Punctuation and
//            spacing are kept: regular expressions run on this view.
//   units    the word characters of `folded` only ("compact" form), each with
//            the boundary before it. Leetspeak digits and symbols (0 1 3 4 5
//            7 8 9 @ $ ! | +) are kept raw and compared by equivalence class
//            (a '1' matches 'i' or 'l'), but only inside tokens that also
//            hold a letter, so "13 years" stays a number.
//
// A phrase matches the units when it starts and ends on token boundaries and
// every *hard* boundary inside the match falls where the phrase has a space.
// Boundaries are soft between tokens joined by punctuation alone ("k.i.l.l",
// "bo-mb") or next to a single-character token ("k i l l"), hard otherwise;
// so obfuscation by inserted spaces or punctuation is seen through while
// "skill" never matches "kill" and "as sault" does not make "assault".
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shog {

struct NormalizedText {
  struct Unit {
    char32_t c;           // folded character (raw leet digit/symbol where so)
    uint32_t src_begin;   // its bytes in the input: [src_begin, src_end)
    uint32_t src_end;
    uint8_t boundary;     // before this unit: 0 none (same token), 1 soft, 2 hard; the first unit: 2
    bool leet;            // a digit/symbol in a token with letters: compare by leet class
  };
  std::string folded;              // UTF-8
  std::vector<uint32_t> folded_src_begin, folded_src_end;  // per byte of folded (plus one end entry)
  std::vector<Unit> units;
};

NormalizedText normalize_text(std::string_view text);

// The folded view alone, as a string (what regexes see; also used to show
// what the normaliser made of a text).
std::string fold_text(std::string_view text);

// A phrase prepared for matching: its compact characters and where it had
// spaces (a hard boundary in the text is allowed only there).
struct PhrasePattern {
  std::u32string chars;
  std::vector<bool> space_before;  // per char: the phrase had a space before it
  std::string text;                // as written, for reports
};
PhrasePattern compile_phrase(std::string_view phrase);

struct PhraseMatch {
  uint32_t src_begin, src_end;  // bytes of the input
};
// All non-overlapping matches, left to right.
std::vector<PhraseMatch> find_phrase(const NormalizedText& t, const PhrasePattern& p);

}  // namespace shog
