// The file formats the tokenizer reads and writes, each turning contents into
// a TokenizerSpec (or back). `where` names the file in every error. The
// format of each is described in docs/formats.md ("Tokenizer file").
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/tokenizer.h"

namespace shog {

// Our own JSON format ("format": "shoggoth.tokenizer").
bool is_shog_tokenizer_json(const nlohmann::json& j);
TokenizerSpec parse_shog_tokenizer(const nlohmann::json& j, const std::string& where);
std::string serialize_shog_tokenizer(const Tokenizer& tok);

// tiktoken: a .tiktoken file ("<base64 bytes> <rank>" per line; the split
// pattern and specials come from the file name, e.g. cl100k_base.tiktoken),
// or js-tiktoken's rank JSON ({"pat_str", "special_tokens", "bpe_ranks"}).
TokenizerSpec parse_tiktoken_file(std::string_view content, const std::string& where);
bool is_js_tiktoken_ranks(const nlohmann::json& j);
TokenizerSpec parse_js_tiktoken_ranks(const nlohmann::json& j, const std::string& where);

// Hugging Face tokenizer.json with a byte-level BPE model.
bool is_hf_tokenizer_json(const nlohmann::json& j);
TokenizerSpec parse_hf_tokenizer_json(const nlohmann::json& j, const std::string& where);

// Token ids index dense tables, so an id far beyond the number of entries a
// file declares would make a corrupt file allocate gigabytes. Ids may leave
// gaps (real vocabularies do), but at most kMaxTokenIdGap past the count of
// entries, and never beyond kMaxVocabSize. Throws bad_input naming `where`.
constexpr int64_t kMaxTokenIdGap = 1 << 16;
constexpr int64_t kMaxVocabSize = 1 << 24;
void check_token_id(int64_t id, size_t entries, const std::string& where);

// Standard base64 (RFC 4648, with padding). decode returns false on bad input.
bool base64_decode(std::string_view in, std::string& out);
std::string base64_encode(std::string_view in);

}  // namespace shog
