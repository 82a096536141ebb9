// Our own tokenizer file: JSON, self-describing (split pattern, merge order,
// tokens as base64, merges as id pairs, added/special tokens) with a
// checksum over its contents so that a corrupted file is refused rather than
// silently tokenizing differently. Format: docs/formats.md, "Tokenizer file".
// Reading and writing go through Tokenizer::load / Tokenizer::save; this
// header only names the format's identity.
#pragma once

namespace shog {

inline constexpr const char* kTokenizerFormatName = "shoggoth.tokenizer";
inline constexpr int kTokenizerFormatVersion = 1;

}  // namespace shog
