#include "tokenizer/tokenizer_file.h"

#include <array>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/hash_table.h"
#include "tokenizer/tokenizer_formats.h"

namespace shog {

using nlohmann::json;

// ---- base64 -------------------------------------------------------------

static const char* kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kB64[(v >> s) & 63];
  }
  if (size_t r = in.size() - i) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (r == 2) v |= uint8_t(in[i + 1]) << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += r == 2 ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool base64_decode(std::string_view in, std::string& out) {
  static const auto table = [] {
    std::array<int8_t, 256> t;
    t.fill(-1);
    for (int i = 0; i < 64; ++i) t[uint8_t(kB64[i])] = int8_t(i);
    return t;
  }();
  out.clear();
  if (in.size() % 4 != 0) return false;
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in[i + k];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad) return false;  // data after padding
      v[k] = table[uint8_t(c)];
      if (v[k] < 0) return false;
    }
    uint32_t w = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += char(w >> 16);
    if (pad < 2) out += char((w >> 8) & 0xFF);
    if (pad < 1) out += char(w & 0xFF);
  }
  return true;
}

// ---- our format -----------------------------------------------------------

// A content checksum that does not depend on JSON formatting: every field
// that changes how text tokenizes, hashed in a fixed order.
static uint64_t spec_checksum(const std::string& pattern, MergeOrder order, bool shortcut,
                              const std::vector<std::string>& tokens, const std::vector<bool>& present,
                              const std::vector<std::pair<int32_t, int32_t>>& merges,
                              const std::vector<AddedToken>& added) {
  uint64_t h = detail::hash_bytes(pattern.data(), pattern.size());
  auto mix = [&](uint64_t v) { h = detail::mix64(h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6))); };
  mix(uint64_t(order));
  mix(shortcut);
  for (size_t i = 0; i < tokens.size(); ++i)
    mix(present[i] ? detail::hash_bytes(tokens[i].data(), tokens[i].size()) : 0x5eed);
  for (auto [a, b] : merges) mix(detail::PairTable::key(a, b));
  for (auto& t : added) {
    mix(detail::hash_bytes(t.text.data(), t.text.size()));
    mix(uint64_t(t.id) * 2 + t.special);
  }
  return h;
}

bool is_shog_tokenizer_json(const json& j) {
  return j.is_object() && j.contains("format") && j["format"] == kTokenizerFormatName;
}

std::string serialize_shog_tokenizer(const Tokenizer& tok) {
  const BpeModel& m = tok.model();
  json j;
  j["format"] = kTokenizerFormatName;
  j["version"] = kTokenizerFormatVersion;
  j["pattern"] = tok.pattern();
  j["merge_order"] = m.order() == MergeOrder::ranks ? "ranks" : "merges";
  j["whole_piece_shortcut"] = m.whole_piece_shortcut();
  j["normalizer"] = tok.normalizer();
  j["vocab_size"] = tok.vocab_size();
  std::vector<std::string> tokens(m.size());
  std::vector<bool> present(m.size());
  json jt = json::array();
  for (int32_t id = 0; id < m.size(); ++id) {
    present[id] = m.present(id);
    if (present[id]) {
      tokens[id] = m.bytes(id);
      jt.push_back(base64_encode(tokens[id]));
    } else {
      jt.push_back(nullptr);
    }
  }
  j["tokens"] = std::move(jt);
  json jm = json::array();
  for (auto [a, b] : m.merges()) jm.push_back({a, b});
  j["merges"] = std::move(jm);
  json ja = json::array();
  for (auto& t : tok.added_tokens()) ja.push_back({{"id", t.id}, {"text", t.text}, {"special", t.special}});
  j["added_tokens"] = std::move(ja);
  j["checksum"] = fmt::format("{:016x}", spec_checksum(tok.pattern(), m.order(), m.whole_piece_shortcut(), tokens,
                                                       present, m.merges(), tok.added_tokens()));
  // One merge or token per line keeps diffs of two trained files readable.
  std::string out = j.dump(1, ' ', false, json::error_handler_t::strict);
  out += '\n';
  return out;
}

TokenizerSpec parse_shog_tokenizer(const json& j, const std::string& where) {
  auto field = [&](const char* k) -> const json& {
    SHOG_CHECK(j.contains(k), ErrorKind::bad_input, where, "missing field \"{}\"", k);
    return j[k];
  };
  int version = field("version").get<int>();
  SHOG_CHECK(version == kTokenizerFormatVersion, ErrorKind::bad_input, where,
             "format version {} is not supported (this build reads version {})", version, kTokenizerFormatVersion);
  TokenizerSpec s;
  s.pattern = field("pattern").get<std::string>();
  std::string order = field("merge_order").get<std::string>();
  SHOG_CHECK(order == "ranks" || order == "merges", ErrorKind::bad_input, where,
             "merge_order must be \"ranks\" or \"merges\", not \"{}\"", order);
  s.order = order == "ranks" ? MergeOrder::ranks : MergeOrder::merges;
  s.whole_piece_shortcut = field("whole_piece_shortcut").get<bool>();
  s.normalizer = j.value("normalizer", std::string());
  const json& jt = field("tokens");
  SHOG_CHECK(jt.is_array(), ErrorKind::bad_input, where, "\"tokens\" is not an array");
  s.tokens.resize(jt.size());
  s.present.resize(jt.size());
  for (size_t i = 0; i < jt.size(); ++i) {
    if (jt[i].is_null()) continue;
    SHOG_CHECK(jt[i].is_string() && base64_decode(jt[i].get_ref<const std::string&>(), s.tokens[i]),
               ErrorKind::bad_input, where, "token {} is not valid base64", i);
    s.present[i] = true;
  }
  for (auto& m : field("merges")) {
    SHOG_CHECK(m.is_array() && m.size() == 2, ErrorKind::bad_input, where, "a merge is not a pair of ids");
    s.merges.emplace_back(m[0].get<int32_t>(), m[1].get<int32_t>());
  }
  for (auto& a : field("added_tokens"))
    s.added.push_back({a.at("text").get<std::string>(), a.at("id").get<int32_t>(), a.at("special").get<bool>()});
  std::string want = field("checksum").get<std::string>();
  std::string got = fmt::format("{:016x}", spec_checksum(s.pattern, s.order, s.whole_piece_shortcut, s.tokens,
                                                         s.present, s.merges, s.added));
  SHOG_CHECK(want == got, ErrorKind::bad_input, where, "checksum mismatch (file says {}, contents give {}): corrupt file",
             want, got);
  int32_t vs = field("vocab_size").get<int32_t>();
  int32_t max_id = int32_t(s.tokens.size());
  for (auto& a : s.added) max_id = std::max(max_id, a.id + 1);
  SHOG_CHECK(vs == max_id, ErrorKind::bad_input, where, "vocab_size {} does not match the tokens listed ({})", vs,
             max_id);
  return s;
}

}  // namespace shog
