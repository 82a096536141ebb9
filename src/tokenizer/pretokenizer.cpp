#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenizer.h"

#include <pcre2.h>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace shog {

std::optional<std::string> named_split_pattern(std::string_view name) {
  // The patterns as tiktoken / Hugging Face publish them (JS/PCRE syntax).
  static const char* gpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
  static const char* cl100k =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  static const char* qwen2 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  static const char* o200k =
      R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  if (name == "gpt2" || name == "r50k" || name == "r50k_base" || name == "p50k_base") return gpt2;
  if (name == "cl100k" || name == "cl100k_base" || name == "gpt4" || name == "llama3") return cl100k;
  if (name == "qwen2" || name == "qwen3") return qwen2;
  if (name == "o200k" || name == "o200k_base") return o200k;
  return std::nullopt;
}

namespace {

// Match data and JIT stack are independent of the pattern, so one set per
// thread serves every Pretokenizer and encode never allocates per call.
struct ThreadMatchState {
  pcre2_match_data* md = nullptr;
  pcre2_match_context* mctx = nullptr;
  pcre2_jit_stack* stack = nullptr;
  ThreadMatchState() {
    md = pcre2_match_data_create(1, nullptr);
    mctx = pcre2_match_context_create(nullptr);
    // Lookahead over long whitespace runs backtracks; 32 KiB (the default)
    // to 4 MiB lets pathological inputs through without an error.
    stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
    pcre2_jit_stack_assign(mctx, nullptr, stack);
  }
  ~ThreadMatchState() {
    pcre2_match_data_free(md);
    pcre2_match_context_free(mctx);
    pcre2_jit_stack_free(stack);
  }
};

ThreadMatchState& thread_state() {
  thread_local ThreadMatchState s;
  return s;
}

}  // namespace

Pretokenizer::Pretokenizer(std::string pattern) : pattern_(std::move(pattern)) {
  int err = 0;
  PCRE2_SIZE off = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern_.data()), pattern_.size(),
                        PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &off, nullptr);
  if (!code_) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw Error(ErrorKind::invalid_argument, fmt::format("split pattern at offset {}", off),
                reinterpret_cast<const char*>(msg));
  }
  jit_ = pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE) == 0;
}

Pretokenizer::~Pretokenizer() { pcre2_code_free(code_); }

bool Pretokenizer::next_match(std::string_view text, size_t pos, size_t& b, size_t& e) const {
  auto& st = thread_state();
  auto subj = reinterpret_cast<PCRE2_SPTR>(text.data());
  // The caller guarantees valid UTF-8, so the per-call check (a full scan of
  // the rest of the text each time) is skipped.
  int rc = jit_ ? pcre2_jit_match(code_, subj, text.size(), pos, 0, st.md, st.mctx)
                : pcre2_match(code_, subj, text.size(), pos, PCRE2_NO_UTF_CHECK, st.md, st.mctx);
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(rc, msg, sizeof msg);
    throw Error(ErrorKind::internal, "split pattern", fmt::format("match failed: {}", reinterpret_cast<const char*>(msg)));
  }
  PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.md);
  b = ov[0];
  e = ov[1];
  if (e == b) {
    if (b >= text.size()) return false;
    size_t len = utf8::sequence_length(subj + b, text.size() - b);
    e = b + (len ? len : 1);
  }
  return true;
}

}  // namespace shog
