// tiktoken's rank files. A rank is both the token id and its merge priority
// (MergeOrder::ranks), and a pre-token that is a whole token is emitted
// directly, as tiktoken does.
#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_formats.h"

namespace shog {

using nlohmann::json;

void check_token_id(int64_t id, size_t entries, const std::string& where) {
  SHOG_CHECK(id >= 0 && id < kMaxVocabSize && id < int64_t(entries) + kMaxTokenIdGap, ErrorKind::bad_input, where,
             "token id {} out of range (the file has {} entries; ids may exceed that by at most {})", id, entries,
             kMaxTokenIdGap);
}

// `entries` bounds the ranks: see check_token_id.
static void put_rank(TokenizerSpec& s, std::string bytes, int64_t rank, size_t entries, const std::string& where) {
  check_token_id(rank, entries, where);
  if (size_t(rank) >= s.tokens.size()) {
    s.tokens.resize(rank + 1);
    s.present.resize(rank + 1);
  }
  SHOG_CHECK(!s.present[rank], ErrorKind::bad_input, where, "rank {} appears twice", rank);
  s.tokens[rank] = std::move(bytes);
  s.present[rank] = true;
}

// A .tiktoken file holds only ranks; the split pattern and special tokens are
// fixed per encoding in tiktoken's code, so they are recognised by file name.
TokenizerSpec parse_tiktoken_file(std::string_view content, const std::string& where) {
  std::string stem = std::filesystem::path(where).stem().string();
  TokenizerSpec s;
  s.order = MergeOrder::ranks;
  s.whole_piece_shortcut = true;
  auto has = [&](const char* k) { return stem.find(k) != std::string::npos; };
  if (has("cl100k")) {
    s.added = {{"<|endoftext|>", 100257, true},
               {"<|fim_prefix|>", 100258, true},
               {"<|fim_middle|>", 100259, true},
               {"<|fim_suffix|>", 100260, true},
               {"<|endofprompt|>", 100276, true}};
    s.pattern = *named_split_pattern("cl100k");
  } else if (has("o200k")) {
    s.added = {{"<|endoftext|>", 199999, true}, {"<|endofprompt|>", 200018, true}};
    s.pattern = *named_split_pattern("o200k");
  } else if (has("r50k") || has("gpt2") || has("p50k")) {
    s.added = {{"<|endoftext|>", 50256, true}};
    s.pattern = *named_split_pattern("gpt2");
  } else {
    throw Error(ErrorKind::bad_input, where,
                "cannot tell the encoding from the file name (the split pattern is not stored in a .tiktoken file); "
                "name it after its encoding: r50k_base, p50k_base, cl100k_base or o200k_base");
  }
  size_t entries = size_t(std::count(content.begin(), content.end(), '\n')) + 1;
  size_t line_no = 0, pos = 0;
  std::string bytes;
  while (pos < content.size()) {
    size_t eol = content.find('\n', pos);
    if (eol == std::string_view::npos) eol = content.size();
    std::string_view line = content.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    size_t sp = line.find(' ');
    std::string loc = fmt::format("{}:{}", where, line_no);
    SHOG_CHECK(sp != std::string_view::npos, ErrorKind::bad_input, loc, "expected \"<base64> <rank>\"");
    SHOG_CHECK(base64_decode(line.substr(0, sp), bytes) && !bytes.empty(), ErrorKind::bad_input, loc,
               "token is not valid base64");
    std::string_view num = line.substr(sp + 1);
    int64_t rank = 0;
    SHOG_CHECK(!num.empty() && num.size() <= 10, ErrorKind::bad_input, loc, "rank is not a number");
    for (char c : num) {
      SHOG_CHECK(c >= '0' && c <= '9', ErrorKind::bad_input, loc, "rank is not a number");
      rank = rank * 10 + (c - '0');
    }
    put_rank(s, bytes, rank, entries, loc);
  }
  SHOG_CHECK(!s.tokens.empty(), ErrorKind::bad_input, where, "no ranks in file");
  return s;
}

bool is_js_tiktoken_ranks(const json& j) { return j.is_object() && j.contains("bpe_ranks") && j.contains("pat_str"); }

// js-tiktoken's compact form: "bpe_ranks" is lines of
// "<tag> <first rank> <base64 token> <base64 token> ...", consecutive ranks.
TokenizerSpec parse_js_tiktoken_ranks(const json& j, const std::string& where) {
  TokenizerSpec s;
  s.order = MergeOrder::ranks;
  s.whole_piece_shortcut = true;
  s.pattern = j.at("pat_str").get<std::string>();
  const std::string& ranks = j.at("bpe_ranks").get_ref<const std::string&>();
  // Every token takes at least two base64 characters and a space.
  size_t entries = ranks.size() / 3 + 1;
  size_t pos = 0, line_no = 0;
  std::string bytes;
  while (pos < ranks.size()) {
    size_t eol = ranks.find('\n', pos);
    if (eol == std::string::npos) eol = ranks.size();
    std::string_view line(ranks.data() + pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (line.empty()) continue;
    std::string loc = fmt::format("{}: bpe_ranks line {}", where, line_no);
    size_t a = line.find(' ');
    SHOG_CHECK(a != std::string_view::npos, ErrorKind::bad_input, loc, "no offset");
    size_t b = line.find(' ', a + 1);
    std::string_view off = line.substr(a + 1, b == std::string_view::npos ? std::string_view::npos : b - a - 1);
    int64_t rank = 0;
    SHOG_CHECK(!off.empty() && off.size() <= 10, ErrorKind::bad_input, loc, "offset is not a number");
    for (char c : off) {
      SHOG_CHECK(c >= '0' && c <= '9', ErrorKind::bad_input, loc, "offset is not a number");
      rank = rank * 10 + (c - '0');
    }
    while (b != std::string_view::npos) {
      size_t e = line.find(' ', b + 1);
      std::string_view tok = line.substr(b + 1, e == std::string_view::npos ? std::string_view::npos : e - b - 1);
      b = e;
      if (tok.empty()) continue;
      SHOG_CHECK(base64_decode(tok, bytes) && !bytes.empty(), ErrorKind::bad_input, loc, "token is not valid base64");
      put_rank(s, bytes, rank++, entries, loc);
    }
  }
  SHOG_CHECK(!s.tokens.empty(), ErrorKind::bad_input, where, "no ranks in bpe_ranks");
  if (j.contains("special_tokens"))
    for (auto& [text, id] : j["special_tokens"].items()) s.added.push_back({text, id.get<int32_t>(), true});
  return s;
}

}  // namespace shog
