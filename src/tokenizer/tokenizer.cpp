#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_io.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_formats.h"
#include "tokenizer/utf8.h"

namespace shog {

struct Tokenizer::Data {
  BpeModel model;
  std::unique_ptr<Pretokenizer> pre;
  std::vector<AddedToken> added;
  std::vector<int32_t> added_index;  // id -> index in `added`, or -1
  std::unordered_map<std::string, int32_t> special_by_text;
  SpecialTokenMatcher all_added, non_special;
  std::string normalizer;
  int32_t vocab_size = 0;
};

Tokenizer Tokenizer::from_spec(TokenizerSpec spec, const std::string& where) {
  auto d = std::make_shared<Data>(Data{
      BpeModel(std::move(spec.tokens), std::move(spec.present), spec.order, std::move(spec.merges),
               spec.whole_piece_shortcut, where),
      nullptr, std::move(spec.added), {}, {}, {}, {}, std::move(spec.normalizer), 0});
  SHOG_CHECK(!spec.pattern.empty(), ErrorKind::bad_input, where, "no split pattern");
  try {
    d->pre = std::make_unique<Pretokenizer>(spec.pattern);
  } catch (const Error& e) {
    throw Error(ErrorKind::bad_input, where, fmt::format("split pattern does not compile: {}", e.what()));
  }
  d->vocab_size = d->model.size();
  for (auto& t : d->added) {
    check_token_id(t.id, d->model.size() + d->added.size(), fmt::format("{}: added token {:?}", where, t.text));
    SHOG_CHECK(!t.text.empty(), ErrorKind::bad_input, where, "added token {} has empty text", t.id);
    d->vocab_size = std::max(d->vocab_size, t.id + 1);
  }
  d->added_index.assign(d->vocab_size, -1);
  std::vector<AddedToken> non_special;
  for (size_t i = 0; i < d->added.size(); ++i) {
    auto& t = d->added[i];
    SHOG_CHECK(d->added_index[t.id] < 0, ErrorKind::bad_input, where, "two added tokens share id {}", t.id);
    d->added_index[t.id] = int32_t(i);
    d->special_by_text.emplace(t.text, t.id);
    if (!t.special) non_special.push_back(t);
  }
  d->all_added = SpecialTokenMatcher(d->added);
  d->non_special = SpecialTokenMatcher(non_special);
  return Tokenizer(std::move(d));
}

void Tokenizer::encode_ordinary(std::string_view text, std::vector<int32_t>& out) const {
  // The split regex runs in UTF-8 mode, so invalid bytes are cut out first:
  // each maximal run of them becomes a pre-token of its own, which keeps
  // encode total over arbitrary bytes (and decode(encode(x)) == x).
  auto p = reinterpret_cast<const uint8_t*>(text.data());
  size_t i = 0, n = text.size();
  auto piece = [&](std::string_view s) { d_->model.encode_piece(s, out); };
  while (i < n) {
    size_t ok = utf8::valid_prefix(p + i, n - i);
    if (ok) d_->pre->split(text.substr(i, ok), piece);
    i += ok;
    size_t bad = i;
    while (bad < n && utf8::sequence_length(p + bad, n - bad) == 0) ++bad;
    if (bad > i) d_->model.encode_piece(text.substr(i, bad - i), out);
    i = bad;
  }
}

void Tokenizer::encode_into(std::string_view text, bool with_special, std::vector<int32_t>& out) const {
  const SpecialTokenMatcher& m = with_special ? d_->all_added : d_->non_special;
  size_t pos = 0;
  SpecialTokenMatcher::Match hit;
  while (!m.empty() && m.find(text, pos, hit)) {
    encode_ordinary(text.substr(pos, hit.pos - pos), out);
    out.push_back(hit.id);
    pos = hit.pos + hit.len;
  }
  encode_ordinary(text.substr(pos), out);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  encode_into(text, false, out);
  return out;
}

std::vector<int32_t> Tokenizer::encode_with_special(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  encode_into(text, true, out);
  return out;
}

std::vector<std::vector<int32_t>> Tokenizer::encode_batch(const std::vector<std::string>& texts, int threads) const {
  std::vector<std::vector<int32_t>> out(texts.size());
  int n = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
  n = int(std::min<size_t>(n, texts.size()));
  if (n <= 1) {
    for (size_t i = 0; i < texts.size(); ++i) out[i] = encode(texts[i]);
    return out;
  }
  // Texts vary wildly in length, so threads pull the next index instead of
  // taking fixed slices.
  std::atomic<size_t> next{0};
  std::exception_ptr err;
  std::atomic<bool> failed{false};
  auto work = [&] {
    try {
      for (size_t i; (i = next.fetch_add(1)) < texts.size() && !failed;) out[i] = encode(texts[i]);
    } catch (...) {
      if (!failed.exchange(true)) err = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < n; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (err) std::rethrow_exception(err);
  return out;
}

const std::string& Tokenizer::token_bytes(int32_t id) const {
  SHOG_CHECK(id >= 0 && id < d_->vocab_size, ErrorKind::invalid_argument, "decode",
             "token id {} is outside the vocabulary (size {})", id, d_->vocab_size);
  int32_t a = d_->added_index[id];
  if (a >= 0) return d_->added[a].text;
  SHOG_CHECK(d_->model.present(id), ErrorKind::invalid_argument, "decode", "token id {} is unused in this vocabulary",
             id);
  return d_->model.bytes(id);
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  out.reserve(ids.size() * 4);
  for (int32_t id : ids) out += token_bytes(id);
  return out;
}

int32_t Tokenizer::vocab_size() const { return d_->vocab_size; }

std::optional<int32_t> Tokenizer::special_id(std::string_view text) const {
  auto it = d_->special_by_text.find(std::string(text));
  if (it == d_->special_by_text.end()) return std::nullopt;
  return it->second;
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && id < d_->vocab_size && d_->added_index[id] >= 0 && d_->added[d_->added_index[id]].special;
}

const std::string& Tokenizer::pattern() const { return d_->pre->pattern(); }
const BpeModel& Tokenizer::model() const { return d_->model; }
const std::vector<AddedToken>& Tokenizer::added_tokens() const { return d_->added; }
const std::string& Tokenizer::normalizer() const { return d_->normalizer; }

Tokenizer Tokenizer::parse(std::string_view content, const std::string& name) {
  size_t i = 0;
  while (i < content.size() && std::isspace(uint8_t(content[i]))) ++i;
  std::string_view body = content.substr(i);
  // js-tiktoken ships its ranks as an ES module ("export default {...}");
  // accept that file as is so users can point at it directly.
  constexpr std::string_view kExport = "export default";
  bool js_module = body.substr(0, kExport.size()) == kExport;
  if (js_module) {
    body.remove_prefix(kExport.size());
    while (!body.empty() && (std::isspace(uint8_t(body.back())) || body.back() == ';')) body.remove_suffix(1);
  }
  if (js_module || (!body.empty() && body[0] == '{')) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(body);
    } catch (const nlohmann::json::exception& e) {
      throw Error(ErrorKind::bad_input, name, fmt::format("not valid JSON (truncated or corrupt?): {}", e.what()));
    }
    try {
      if (is_shog_tokenizer_json(j)) return from_spec(parse_shog_tokenizer(j, name), name);
      if (is_js_tiktoken_ranks(j)) return from_spec(parse_js_tiktoken_ranks(j, name), name);
      if (is_hf_tokenizer_json(j)) return from_spec(parse_hf_tokenizer_json(j, name), name);
    } catch (const nlohmann::json::exception& e) {
      throw Error(ErrorKind::bad_input, name, fmt::format("unexpected JSON structure: {}", e.what()));
    }
    throw Error(ErrorKind::bad_input, name,
                "JSON is neither a shoggoth tokenizer, js-tiktoken ranks nor a Hugging Face tokenizer.json");
  }
  SHOG_CHECK(!body.empty(), ErrorKind::bad_input, name, "empty tokenizer file");
  return from_spec(parse_tiktoken_file(content, name), name);
}

Tokenizer Tokenizer::load(const std::string& path) {
  return parse(read_file(path), path);
}

void Tokenizer::save(const std::string& path) const { write_file_atomic(path, serialize_shog_tokenizer(*this)); }

}  // namespace shog
