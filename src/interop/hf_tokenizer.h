// Our tokenizer as a Hugging Face tokenizers `tokenizer.json` (byte-level
// BPE): model.vocab and merges in GPT-2's byte-level alphabet, the split
// regex as a Split pre-tokenizer followed by a regex-less ByteLevel, a
// ByteLevel decoder, and our special tokens as added_tokens. The file loads
// back through Tokenizer::load (hf_tokenizer_json.cpp) and in HF's own
// libraries (transformers' PreTrainedTokenizerFast, transformers.js).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace shog {

// Throws unsupported for a tiktoken-rank tokenizer (HF BPE needs merges).
nlohmann::ordered_json hf_tokenizer_json(const Tokenizer& tok);
// tokenizer_config.json: special-token names and the tokenizer class.
nlohmann::ordered_json hf_tokenizer_config(const Tokenizer& tok, int64_t model_max_length);

}  // namespace shog
