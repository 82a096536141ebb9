#include "infer/text_stream.h"

#include <span>

namespace shog {

size_t utf8_incomplete_tail(const char* p, size_t n) {
  // Look back at most 3 bytes for the lead byte of the last character.
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const uint8_t c = uint8_t(p[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: keep looking
    const size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return need > back ? back : 0;  // lead byte with too few followers so far
  }
  return 0;  // ASCII end, or continuation bytes with no lead in reach (invalid: pass through)
}

TokenTextStream::TokenTextStream(const Tokenizer* tok, std::vector<std::string> stop_strings)
    : tok_(tok), matcher_(std::move(stop_strings)) {}

std::string_view TokenTextStream::emit_upto(size_t end) {
  if (end <= emitted_) return {};
  std::string_view out(all_.data() + emitted_, end - emitted_);
  emitted_ = end;
  return out;
}

std::string_view TokenTextStream::push(int32_t token) {
  if (!tok_ || matcher_.stopped()) return {};
  if (tok_->is_special(token)) return {};  // control tokens are not text
  const size_t before = all_.size();
  all_ += tok_->decode(std::span<const int32_t>(&token, 1));
  const auto r = matcher_.feed(std::string_view(all_).substr(before));
  if (r.stopped) {
    all_.resize(r.emit_upto);  // the stop string and anything after it are not output
    return emit_upto(r.emit_upto);
  }
  // Hold back an unfinished character; held bytes of a stop-string prefix are
  // already excluded by emit_upto.
  size_t end = r.emit_upto;
  end -= utf8_incomplete_tail(all_.data(), end);
  return emit_upto(std::max(end, emitted_));
}

std::string_view TokenTextStream::finish() {
  if (!tok_) return {};
  return emit_upto(matcher_.stopped() ? all_.size() : matcher_.flush());
}

}  // namespace shog
