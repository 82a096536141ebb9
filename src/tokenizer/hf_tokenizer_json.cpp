// Hugging Face tokenizer.json, byte-level BPE only (GPT-2, Llama 3, Qwen):
// vocabulary and merges are written in GPT-2's byte-level alphabet
// (byte_level.h) and are turned back into raw bytes here, so the rest of the
// tokenizer never sees that encoding.
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_formats.h"

namespace shog {

using nlohmann::json;

bool is_hf_tokenizer_json(const json& j) { return j.is_object() && j.contains("model") && j["model"].is_object(); }

// The split regex of the pre-tokenizer, or an error for a pipeline we do not
// reproduce exactly (better refuse than tokenize differently from HF).
static std::string split_pattern(const json& pt, const std::string& where) {
  SHOG_CHECK(pt.is_object(), ErrorKind::unsupported, where, "pre_tokenizer is missing; only byte-level BPE is supported");
  std::string type = pt.value("type", "");
  if (type == "ByteLevel") {
    SHOG_CHECK(!pt.value("add_prefix_space", false), ErrorKind::unsupported, where,
               "pre_tokenizer ByteLevel with add_prefix_space is not supported");
    SHOG_CHECK(pt.value("use_regex", true), ErrorKind::unsupported, where,
               "pre_tokenizer ByteLevel without a split regex is not supported");
    return *named_split_pattern("gpt2");
  }
  SHOG_CHECK(type == "Sequence", ErrorKind::unsupported, where, "pre_tokenizer type \"{}\" is not supported", type);
  std::string pattern;
  for (auto& p : pt.at("pretokenizers")) {
    std::string t = p.value("type", "");
    if (t == "Split") {
      SHOG_CHECK(pattern.empty(), ErrorKind::unsupported, where, "more than one Split pre-tokenizer");
      SHOG_CHECK(p.value("behavior", "") == "Isolated" && !p.value("invert", false), ErrorKind::unsupported, where,
                 "Split pre-tokenizer must be Isolated and not inverted");
      const json& pat = p.at("pattern");
      SHOG_CHECK(pat.contains("Regex"), ErrorKind::unsupported, where, "Split pattern must be a Regex");
      pattern = pat["Regex"].get<std::string>();
    } else if (t == "ByteLevel") {
      SHOG_CHECK(!p.value("add_prefix_space", false), ErrorKind::unsupported, where,
                 "ByteLevel with add_prefix_space is not supported");
      if (p.value("use_regex", true)) {
        SHOG_CHECK(pattern.empty(), ErrorKind::unsupported, where, "Split followed by a regex ByteLevel");
        pattern = *named_split_pattern("gpt2");
      }
    } else {
      throw Error(ErrorKind::unsupported, where, fmt::format("pre-tokenizer \"{}\" in Sequence is not supported", t));
    }
  }
  SHOG_CHECK(!pattern.empty(), ErrorKind::unsupported, where, "pre_tokenizer has no split regex");
  return pattern;
}

TokenizerSpec parse_hf_tokenizer_json(const json& j, const std::string& where) {
  const json& model = j.at("model");
  std::string mtype = model.value("type", "BPE");
  SHOG_CHECK(mtype == "BPE", ErrorKind::unsupported, where, "model type \"{}\" is not supported (only BPE)", mtype);
  SHOG_CHECK(!model.value("byte_fallback", false), ErrorKind::unsupported, where,
             "byte_fallback BPE (SentencePiece style) is not supported; only byte-level BPE");
  TokenizerSpec s;
  s.order = MergeOrder::merges;
  s.whole_piece_shortcut = model.value("ignore_merges", false);
  s.pattern = split_pattern(j.value("pre_tokenizer", json()), where);
  if (j.contains("normalizer") && !j["normalizer"].is_null()) {
    std::string n = j["normalizer"].value("type", "");
    // NFC leaves already-composed text unchanged; we record it and expect NFC
    // input (docs/formats.md). Anything else would change the text.
    SHOG_CHECK(n == "NFC", ErrorKind::unsupported, where, "normalizer \"{}\" is not supported", n);
    s.normalizer = n;
  }

  const json& vocab = model.at("vocab");
  SHOG_CHECK(vocab.is_object(), ErrorKind::bad_input, where, "model.vocab is not an object");
  std::unordered_map<std::string, int32_t> id_of;
  id_of.reserve(vocab.size());
  for (auto& [text, jid] : vocab.items()) {
    int64_t id = jid.get<int64_t>();
    check_token_id(id, vocab.size(), where);
    auto bytes = byte_level::decode(text);
    SHOG_CHECK(bytes.has_value() && !bytes->empty(), ErrorKind::unsupported, where,
               "vocab entry {:?} is not in the byte-level alphabet; only byte-level BPE is supported", text);
    if (size_t(id) >= s.tokens.size()) {
      s.tokens.resize(id + 1);
      s.present.resize(id + 1);
    }
    SHOG_CHECK(!s.present[id], ErrorKind::bad_input, where, "vocab id {} appears twice", id);
    s.tokens[id] = std::move(*bytes);
    s.present[id] = true;
    id_of.emplace(text, int32_t(id));
  }
  auto lookup = [&](const std::string& t, size_t i) {
    auto it = id_of.find(t);
    SHOG_CHECK(it != id_of.end(), ErrorKind::bad_input, where, "merge {} uses {:?}, which is not in the vocab", i, t);
    return it->second;
  };
  const json& merges = model.at("merges");
  s.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    std::string a, b;
    if (m.is_string()) {  // older files: "a b"
      const std::string& str = m.get_ref<const std::string&>();
      size_t sp = str.find(' ');
      SHOG_CHECK(sp != std::string::npos && str.find(' ', sp + 1) == std::string::npos, ErrorKind::bad_input, where,
                 "merge {} is not \"left right\"", i);
      a = str.substr(0, sp);
      b = str.substr(sp + 1);
    } else {  // newer files: ["a", "b"]
      SHOG_CHECK(m.is_array() && m.size() == 2, ErrorKind::bad_input, where, "merge {} is not a pair", i);
      a = m[0].get<std::string>();
      b = m[1].get<std::string>();
    }
    s.merges.emplace_back(lookup(a, i), lookup(b, i));
  }
  if (j.contains("added_tokens") && j["added_tokens"].is_array())
    for (auto& t : j["added_tokens"])
      s.added.push_back({t.at("content").get<std::string>(), t.at("id").get<int32_t>(), t.value("special", false)});
  return s;
}

}  // namespace shog
