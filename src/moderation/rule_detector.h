// The rule detector: per category, phrase lists and PCRE2 regular
// expressions, matched after normalisation (normalizer.h). Phrases match the
// compact, de-obfuscated view; regexes run (caseless, Unicode) on the folded
// view, which keeps spacing and punctuation (so a pattern can look for
// e-mail addresses or card numbers). Every hit carries its byte span in the
// original text so that a "redact" action can cut it out.
//
// From a policy file (docs/moderation.md):
//   [rules.violent_crimes]
//   phrases  = ["kill them all", ...]
//   patterns = ['\bhow (do|can) i (poison|strangle)\b', ...]
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "moderation/normalizer.h"

namespace shog {

struct RuleHit {
  std::string category;
  std::string rule;       // the phrase or pattern, as written
  uint32_t begin, end;    // bytes of the original text
};

class RuleDetector {
 public:
  RuleDetector();
  ~RuleDetector();
  RuleDetector(RuleDetector&&) noexcept;
  RuleDetector& operator=(RuleDetector&&) noexcept;

  // `where` names the rule's place ("moderation.toml:12: key rules.hate.phrases")
  // in errors: an empty phrase, a pattern that does not compile.
  void add_phrase(const std::string& category, const std::string& phrase, const std::string& where);
  void add_pattern(const std::string& category, const std::string& pattern, const std::string& where);

  size_t num_rules() const;
  // Every hit, in the order rules were added (phrases, then patterns).
  std::vector<RuleHit> detect(std::string_view text) const;
  std::vector<RuleHit> detect(const NormalizedText& t) const;

 private:
  struct Pattern;
  struct Phrase {
    std::string category;
    PhrasePattern pattern;
  };
  std::vector<Phrase> phrases_;
  std::vector<std::unique_ptr<Pattern>> patterns_;
};

}  // namespace shog
