#define PCRE2_CODE_UNIT_WIDTH 8
#include "moderation/rule_detector.h"

#include <pcre2.h>

#include "core/error.h"

namespace shog {

struct RuleDetector::Pattern {
  std::string category, text;
  pcre2_code* code = nullptr;
  ~Pattern() {
    if (code) pcre2_code_free(code);
  }
};

RuleDetector::RuleDetector() = default;
RuleDetector::~RuleDetector() = default;
RuleDetector::RuleDetector(RuleDetector&&) noexcept = default;
RuleDetector& RuleDetector::operator=(RuleDetector&&) noexcept = default;

void RuleDetector::add_phrase(const std::string& category, const std::string& phrase, const std::string& where) {
  PhrasePattern p = compile_phrase(phrase);
  SHOG_CHECK(!p.chars.empty(), ErrorKind::invalid_argument, where,
             "phrase '{}' has no letters or digits after normalisation", phrase);
  phrases_.push_back({category, std::move(p)});
}

void RuleDetector::add_pattern(const std::string& category, const std::string& pattern, const std::string& where) {
  auto p = std::make_unique<Pattern>();
  p->category = category;
  p->text = pattern;
  int err = 0;
  PCRE2_SIZE off = 0;
  // The subject is the folded view (lowercase already); CASELESS still lets a
  // pattern be written in capitals.
  p->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                          PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &err, &off, nullptr);
  if (!p->code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw Error(ErrorKind::invalid_argument, where,
                fmt::format("pattern '{}' does not compile at offset {}: {}", pattern, size_t(off),
                            reinterpret_cast<const char*>(msg)));
  }
  pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT is unavailable
  patterns_.push_back(std::move(p));
}

size_t RuleDetector::num_rules() const { return phrases_.size() + patterns_.size(); }

std::vector<RuleHit> RuleDetector::detect(std::string_view text) const { return detect(normalize_text(text)); }

std::vector<RuleHit> RuleDetector::detect(const NormalizedText& t) const {
  std::vector<RuleHit> hits;
  for (const auto& ph : phrases_)
    for (const auto& m : find_phrase(t, ph.pattern)) hits.push_back({ph.category, ph.pattern.text, m.src_begin, m.src_end});
  if (patterns_.empty()) return hits;
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  SHOG_ASSERT(md != nullptr);
  const auto* subj = reinterpret_cast<PCRE2_SPTR>(t.folded.data());
  for (const auto& p : patterns_) {
    for (PCRE2_SIZE pos = 0; pos <= t.folded.size();) {
      const int rc = pcre2_match(p->code, subj, t.folded.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
      if (rc < 0) break;  // no match (or a resource limit: treat as none rather than fail a request)
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      const size_t b = ov[0], e = ov[1];
      const uint32_t sb = t.folded_src_begin[b];
      const uint32_t se = e > b ? t.folded_src_end[e - 1] : sb;
      hits.push_back({p->category, p->text, sb, se});
      pos = e > b ? e : e + 1;
      // Step past a UTF-8 continuation byte after an empty match.
      while (pos < t.folded.size() && (uint8_t(t.folded[pos]) & 0xC0) == 0x80) ++pos;
    }
  }
  pcre2_match_data_free(md);
  return hits;
}

}  // namespace shog
