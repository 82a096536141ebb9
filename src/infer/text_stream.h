// The text side of one generated sequence: token ids become bytes
// (Tokenizer::decode of each token; special tokens print nothing), stop
// strings are matched on the concatenated text (StopStringMatcher), and what
// is handed out is only what is final: never a prefix of a stop string that
// may still complete, and never half of a UTF-8 character whose remaining
// bytes come with the next token (a byte-level BPE token may end mid-character).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "infer/stop_strings.h"
#include "tokenizer/tokenizer.h"

namespace shog {

// Bytes at the end of [p, p+n) that begin a UTF-8 character whose remaining
// bytes have not arrived yet (0..3). Bytes that can never become valid UTF-8
// are not held: they are passed through as they are.
size_t utf8_incomplete_tail(const char* p, size_t n);

class TokenTextStream {
 public:
  // tok may be null: then no text is produced (ids only).
  TokenTextStream(const Tokenizer* tok, std::vector<std::string> stop_strings);

  // Adds one generated token; returns the text that became final with it
  // (often empty). After a stop string completes, stopped() is true and
  // the text before the stop has been returned.
  std::string_view push(int32_t token);
  // Generation ended for another reason: returns the held-back rest.
  std::string_view finish();
  bool stopped() const { return matcher_.stopped(); }
  // Everything returned so far.
  std::string_view text() const { return std::string_view(all_).substr(0, emitted_); }

 private:
  std::string_view emit_upto(size_t end);
  const Tokenizer* tok_;
  StopStringMatcher matcher_;
  std::string all_;  // every byte decoded so far
  size_t emitted_ = 0;
};

}  // namespace shog
