// Stop strings over streamed text. The engine decodes each sampled token to a
// piece of bytes and feeds it here; the matcher says how much of everything fed
// so far is safe to show and whether a stop string has completed. A stop string
// is matched on the concatenated text, so it may span any number of tokens.
//
// Which match wins: the occurrence that *completes first* (smallest end offset
// in the text); among occurrences ending at the same byte, the longest. This is
// the only rule that does not depend on how the text was cut into pieces: with
// stops "abcd" and "c", "abc"+"d" and "abcd" both stop before "c". It is also
// what a token-by-token engine naturally does (stop at the first token after
// which any stop string is complete), as in HF StopStringCriteria and llama.cpp.
//
// Hold-back: the longest suffix of the text that is a proper prefix of some stop
// string is not yet safe (the next piece may complete the stop), so emit_upto
// stops before it. With stops "ab" and "b", after "xa" one byte ("a") is held.
// emit_upto never decreases. Cutting emission at a UTF-8 character boundary is
// the caller's job; the matcher counts bytes.
//
// Memory: only the last (longest stop - 1) bytes are kept, so a long generation
// costs nothing extra; offsets are still into all text fed so far.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace shog {

class StopStringMatcher {
 public:
  // Throws shog::Error(invalid_argument) if a stop string is empty (it would
  // match before any text). No stop strings is fine: everything is emitted.
  explicit StopStringMatcher(std::vector<std::string> stops);

  struct Result {
    size_t emit_upto;  // bytes of all text fed so far that may be emitted
    bool stopped;      // a stop string completed; emit_upto is where it begins
  };

  // Feed the next decoded piece. Once stopped, further pieces are ignored and
  // the same Result is returned (the stop is sticky).
  Result feed(std::string_view piece);

  // When generation ends for another reason (stop token, max tokens, cancel):
  // the total bytes to emit, i.e. everything fed, held-back bytes included (the
  // text they might have become a stop string with never came). When stopped,
  // the stop's start offset.
  size_t flush() const;

  bool stopped() const { return stopped_; }
  size_t total_bytes() const { return total_; }
  const std::vector<std::string>& stops() const { return stops_; }

 private:
  std::vector<std::string> stops_;
  size_t max_len_ = 0;     // longest stop string
  std::string window_;     // the last bytes of the text (at most max_len_ - 1 between feeds)
  size_t window_start_ = 0;  // offset of window_[0] in all text fed so far
  size_t total_ = 0;       // bytes fed so far
  size_t emit_upto_ = 0;
  bool stopped_ = false;
};

}  // namespace shog
