// UTF-8 validation. The tokenizer accepts arbitrary bytes (encode/decode must
// round-trip invalid UTF-8), but the split regex runs in UTF mode and must
// only ever see valid runs, and training rejects non-UTF-8 text outright.
#pragma once
#include <cstddef>
#include <cstdint>

namespace shog::utf8 {

// Length of the valid UTF-8 sequence starting at p[0] (1..4), or 0 if the
// bytes there do not start a valid, complete, shortest-form scalar value.
size_t sequence_length(const uint8_t* p, size_t n);

// Length of the longest valid UTF-8 prefix of [p, p+n).
size_t valid_prefix(const uint8_t* p, size_t n);

}  // namespace shog::utf8
