// GPT-2's byte-level alphabet, as used in Hugging Face tokenizer.json files:
// every byte 0..255 is written as one printable Unicode character so that
// vocabularies and merges can be stored as JSON strings (a space becomes
// "Ġ" U+0120, a newline "Ċ" U+010A). Bytes that are already printable
// Latin-1 map to themselves; the rest are shifted to U+0100 and up in order.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace shog::byte_level {

// The UTF-8 text of byte b's character.
const std::string& char_of_byte(uint8_t b);

// Raw bytes of a byte-level string, or nullopt if it has a character outside
// the 256-character alphabet (i.e. it is not a byte-level token).
std::optional<std::string> decode(std::string_view s);

// The byte-level string for raw bytes.
std::string encode(std::string_view bytes);

}  // namespace shog::byte_level
