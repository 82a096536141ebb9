#include "interop/gguf_llama.h"

#include <cstring>
#include <unordered_map>

#include "core/dtype.h"
#include "core/error.h"
#include "interop/llama_rope.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pretokenizer.h"

namespace shog {

namespace {

// llama.cpp's token types (llama_token_type in llama.h).
enum : int32_t { kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5 };

// Our own keys: llama.cpp ignores them; import uses them to restore the
// tokenizer exactly even where llama.cpp's pre-tokenizer name is ambiguous.
constexpr const char* kPatternKey = "shoggoth.tokenizer.pattern";
constexpr const char* kShortcutKey = "shoggoth.tokenizer.whole_piece_shortcut";

struct LayerNames {
  std::string hf, gguf;
};

// HF name suffix -> llama.cpp name suffix, per layer.
const LayerNames kLayerMap[] = {
    {"input_layernorm.weight", "attn_norm.weight"},   {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},     {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"}, {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},      {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};

std::string gguf_name(const std::string& hf) {
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  const std::string pre = "model.layers.";
  SHOG_ASSERT(hf.rfind(pre, 0) == 0);
  const size_t dot = hf.find('.', pre.size());
  const std::string layer = hf.substr(pre.size(), dot - pre.size()), rest = hf.substr(dot + 1);
  for (const auto& m : kLayerMap)
    if (m.hf == rest) return "blk." + layer + "." + m.gguf;
  SHOG_ASSERT(false);
}

bool is_q(const std::string& hf) { return hf.ends_with("self_attn.q_proj.weight"); }
bool is_k(const std::string& hf) { return hf.ends_with("self_attn.k_proj.weight"); }

// Tokens as llama.cpp's gpt2 vocabulary: ordinary tokens in GPT-2's
// byte-level alphabet, added tokens as their text, and every id the model has
// but the tokenizer does not (holes, the padding up to the embedding rows) as
// an unused placeholder, since llama.cpp requires one token per embedding row.
void add_tokenizer(GgufWriter& w, const Tokenizer& tok, int64_t n_vocab, const std::string& where) {
  const BpeModel& bpe = tok.model();
  SHOG_CHECK(bpe.order() == MergeOrder::merges, ErrorKind::unsupported, where,
             "tokenizer uses tiktoken rank order; GGUF's gpt2 vocabulary needs a merge list");
  SHOG_CHECK(tok.vocab_size() <= n_vocab, ErrorKind::invalid_argument, where,
             "tokenizer has {} ids but the model only {} embedding rows", tok.vocab_size(), n_vocab);
  const std::string pre = llama_cpp_pre_name(tok.pattern(), bpe.whole_piece_shortcut());
  SHOG_CHECK(!pre.empty(), ErrorKind::unsupported, where,
             "llama.cpp knows no pre-tokenizer with this split pattern (gpt2, cl100k/gpt4 and qwen2 are supported): {}",
             tok.pattern());

  std::vector<std::string> texts(static_cast<size_t>(n_vocab));
  std::vector<int32_t> types(size_t(n_vocab), kUnused);
  std::vector<bool> set(size_t(n_vocab), false);
  for (int32_t id = 0; id < bpe.size(); ++id)
    if (bpe.present(id)) {
      texts[id] = byte_level::encode(bpe.bytes(id));
      types[id] = kNormal;
      set[id] = true;
    }
  for (const auto& a : tok.added_tokens()) {
    texts[a.id] = a.text;
    types[a.id] = a.special ? kControl : kUserDefined;
    set[a.id] = true;
  }
  for (int64_t id = 0; id < n_vocab; ++id)
    if (!set[id]) texts[id] = fmt::format("[PAD{}]", id);

  std::vector<std::string> merges;
  merges.reserve(bpe.merges().size());
  for (auto [a, b] : bpe.merges())
    merges.push_back(byte_level::encode(bpe.bytes(a)) + " " + byte_level::encode(bpe.bytes(b)));

  w.set("tokenizer.ggml.model", GgufValue::of_str("gpt2"));
  w.set("tokenizer.ggml.pre", GgufValue::of_str(pre));
  w.set("tokenizer.ggml.tokens", GgufValue::of_strs(std::move(texts)));
  w.set("tokenizer.ggml.token_type", GgufValue::of_i32s(types));
  w.set("tokenizer.ggml.merges", GgufValue::of_strs(std::move(merges)));
  const SpecialIds ids = find_special_ids(tok);
  if (ids.bos) w.set("tokenizer.ggml.bos_token_id", GgufValue::of_u32(uint32_t(*ids.bos)));
  if (ids.eos) w.set("tokenizer.ggml.eos_token_id", GgufValue::of_u32(uint32_t(*ids.eos)));
  if (ids.pad) w.set("tokenizer.ggml.padding_token_id", GgufValue::of_u32(uint32_t(*ids.pad)));
  // Our shards start every document with <|bos|>, so a prompt should too;
  // llama.cpp adds it itself when this is true.
  w.set("tokenizer.ggml.add_bos_token", GgufValue::of_bool(ids.bos.has_value()));
  w.set("tokenizer.ggml.add_eos_token", GgufValue::of_bool(false));
  w.set(kPatternKey, GgufValue::of_str(tok.pattern()));
  w.set(kShortcutKey, GgufValue::of_bool(bpe.whole_piece_shortcut()));
}

Tokenizer read_tokenizer(const GgufFile& f) {
  const std::string where = f.path() + ": metadata 'tokenizer.ggml.model'";
  const std::string& model = f.get_str("tokenizer.ggml.model");
  SHOG_CHECK(model == "gpt2", ErrorKind::unsupported, where, "tokenizer model \"{}\" (only gpt2 byte-level BPE)",
             model);
  std::vector<std::string> texts = f.get_strs("tokenizer.ggml.tokens");
  std::vector<int64_t> types = f.has("tokenizer.ggml.token_type") ? f.get_ints("tokenizer.ggml.token_type")
                                                                  : std::vector<int64_t>(texts.size(), kNormal);
  SHOG_CHECK(types.size() == texts.size(), ErrorKind::bad_input, f.path() + ": metadata 'tokenizer.ggml.token_type'",
             "{} types for {} tokens", types.size(), texts.size());

  TokenizerSpec s;
  s.order = MergeOrder::merges;
  std::unordered_map<std::string, int32_t> id_of;
  for (size_t id = 0; id < texts.size(); ++id) {
    const std::string tw = fmt::format("{}: metadata 'tokenizer.ggml.tokens'[{}]", f.path(), id);
    if (types[id] == kControl || types[id] == kUserDefined) {
      s.added.push_back({texts[id], int32_t(id), types[id] == kControl});
      continue;
    }
    if (types[id] == kUnused) continue;
    SHOG_CHECK(types[id] == kNormal, ErrorKind::unsupported, tw, "token type {} (normal, control, user-defined, unused only)",
               types[id]);
    auto bytes = byte_level::decode(texts[id]);
    SHOG_CHECK(bytes && !bytes->empty(), ErrorKind::bad_input, tw, "{:?} is not a byte-level token", texts[id]);
    if (s.tokens.size() <= id) {
      s.tokens.resize(id + 1);
      s.present.resize(id + 1);
    }
    s.tokens[id] = std::move(*bytes);
    s.present[id] = true;
    id_of.emplace(texts[id], int32_t(id));
  }
  const auto merges = f.get_strs("tokenizer.ggml.merges");
  for (size_t i = 0; i < merges.size(); ++i) {
    const std::string mw = fmt::format("{}: metadata 'tokenizer.ggml.merges'[{}]", f.path(), i);
    const size_t sp = merges[i].find(' ');
    SHOG_CHECK(sp != std::string::npos, ErrorKind::bad_input, mw, "{:?} is not \"left right\"", merges[i]);
    auto a = id_of.find(merges[i].substr(0, sp)), b = id_of.find(merges[i].substr(sp + 1));
    SHOG_CHECK(a != id_of.end() && b != id_of.end(), ErrorKind::bad_input, mw, "{:?} uses a token not in the vocabulary",
               merges[i]);
    s.merges.emplace_back(a->second, b->second);
  }
  const std::string pre = f.has("tokenizer.ggml.pre") ? f.get_str("tokenizer.ggml.pre") : "default";
  if (f.has(kPatternKey)) {
    s.pattern = f.get_str(kPatternKey);
    s.whole_piece_shortcut = f.has(kShortcutKey) && f.get_bool(kShortcutKey);
  } else if (pre == "dbrx" || pre == "smaug-bpe" || pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3") {
    s.pattern = *named_split_pattern("cl100k");
    s.whole_piece_shortcut = pre != "dbrx" && pre != "smaug-bpe";  // llama.cpp's ignore_merges
  } else if (pre == "gpt-2" || pre == "default") {
    s.pattern = *named_split_pattern("gpt2");
  } else if (pre == "qwen2") {
    s.pattern = *named_split_pattern("qwen2");
    s.whole_piece_shortcut = false;
  } else {
    throw Error(ErrorKind::unsupported, f.path() + ": metadata 'tokenizer.ggml.pre'",
                fmt::format("pre-tokenizer \"{}\" is not one we can reproduce", pre));
  }
  return Tokenizer::from_spec(std::move(s), f.path());
}

}  // namespace

std::string llama_cpp_pre_name(const std::string& pattern, bool shortcut) {
  // dbrx and llama-bpe share Llama 3's (= cl100k's) regex in llama-vocab.cpp;
  // they differ only in ignore_merges, which is our whole_piece_shortcut.
  if (pattern == *named_split_pattern("cl100k")) return shortcut ? "llama-bpe" : "dbrx";
  if (pattern == *named_split_pattern("gpt2") && !shortcut) return "gpt-2";
  if (pattern == *named_split_pattern("qwen2") && !shortcut) return "qwen2";
  return "";
}

void export_gguf(const ModelDir& m, const std::string& out_path, WeightDType dtype) {
  SHOG_CHECK(m.tokenizer.has_value(), ErrorKind::invalid_argument, out_path,
             "the model directory has no tokenizer.json; GGUF carries the tokenizer");
  const ModelConfig& c = m.config;
  SHOG_CHECK(!c.smear, ErrorKind::invalid_argument, out_path,
             "the model has a previous-token smear (shog_smear in config.json), which llama.cpp's llama "
             "architecture cannot run; it cannot be exported to GGUF");
  const ParamTable table(c);
  GgufWriter w;
  const uint32_t file_type = dtype == WeightDType::f32 ? 0 : dtype == WeightDType::f16 ? 1 : 32;  // llama_ftype
  w.set("general.architecture", GgufValue::of_str("llama"));
  w.set("general.name", GgufValue::of_str("shoggoth"));
  w.set("general.file_type", GgufValue::of_u32(file_type));
  w.set("llama.vocab_size", GgufValue::of_u32(uint32_t(c.vocab)));
  w.set("llama.context_length", GgufValue::of_u32(uint32_t(c.max_seq)));
  w.set("llama.embedding_length", GgufValue::of_u32(uint32_t(c.d_model)));
  w.set("llama.block_count", GgufValue::of_u32(uint32_t(c.n_layer)));
  w.set("llama.feed_forward_length", GgufValue::of_u32(uint32_t(c.ffn_hidden)));
  w.set("llama.attention.head_count", GgufValue::of_u32(uint32_t(c.n_head)));
  w.set("llama.attention.head_count_kv", GgufValue::of_u32(uint32_t(c.n_kv_head)));
  w.set("llama.rope.freq_base", GgufValue::of_f32(c.rope_theta));
  w.set("llama.rope.dimension_count", GgufValue::of_u32(uint32_t(c.head_dim())));
  w.set("llama.attention.layer_norm_rms_epsilon", GgufValue::of_f32(c.norm_eps));
  add_tokenizer(w, *m.tokenizer, c.vocab, out_path);

  // Converted tensor bytes must outlive write(): one buffer per tensor.
  std::vector<std::vector<uint8_t>> bufs;
  bufs.reserve(table.entries().size());
  std::vector<float> permuted;
  for (const auto& e : table.entries()) {
    const float* src = m.params.data() + e.offset;
    if (is_q(e.name) || is_k(e.name)) {
      permuted.resize(size_t(e.numel));
      const int64_t heads = is_q(e.name) ? c.n_head : c.n_kv_head;
      hf_to_ggml_rope_rows(src, permuted.data(), heads, c.head_dim(), c.d_model);
      src = permuted.data();
    }
    const bool keep_f32 = e.shape.size() == 1 || dtype == WeightDType::f32;
    auto& buf = bufs.emplace_back();
    const size_t n = size_t(e.numel);
    GgmlType t;
    if (keep_f32) {
      t = GgmlType::f32;
      buf.resize(n * 4);
      std::memcpy(buf.data(), src, n * 4);
    } else if (dtype == WeightDType::bf16) {
      t = GgmlType::bf16;
      buf.resize(n * 2);
      convert_f32_to_bf16(src, reinterpret_cast<bf16*>(buf.data()), n);
    } else {
      t = GgmlType::f16;
      buf.resize(n * 2);
      uint16_t* d = reinterpret_cast<uint16_t*>(buf.data());
      for (size_t i = 0; i < n; ++i) d[i] = f32_to_f16(src[i]);
    }
    w.add_tensor(gguf_name(e.name), e.shape, t, buf.data(), buf.size());
  }
  w.write(out_path);
}

ModelDir import_gguf(const std::string& path) {
  GgufFile f(path);
  return import_gguf(f);
}

ModelDir import_gguf(const GgufFile& f) {
  const std::string& arch = f.get_str("general.architecture");
  SHOG_CHECK(arch == "llama", ErrorKind::unsupported, f.path() + ": metadata 'general.architecture'",
             "architecture \"{}\" (only llama)", arch);
  ModelDir m;
  ModelConfig& c = m.config;
  auto u = [&](const char* key) { return int64_t(f.get_uint(key)); };
  c.n_layer = u("llama.block_count");
  c.d_model = u("llama.embedding_length");
  c.ffn_hidden = u("llama.feed_forward_length");
  c.n_head = u("llama.attention.head_count");
  c.n_kv_head = f.has("llama.attention.head_count_kv") ? u("llama.attention.head_count_kv") : c.n_head;
  c.max_seq = u("llama.context_length");
  c.rope_theta = f.has("llama.rope.freq_base") ? float(f.get_float("llama.rope.freq_base")) : 10000.0f;
  c.norm_eps = float(f.get_float("llama.attention.layer_norm_rms_epsilon"));
  const auto& embd = f.tensor("token_embd.weight");
  SHOG_CHECK(embd.shape.size() == 2, ErrorKind::bad_input, f.path() + ": tensor 'token_embd.weight'",
             "shape {} is not 2-D", shape_str(embd.shape));
  c.vocab = embd.shape[0];
  c.tie_embeddings = !f.has_tensor("output.weight");
  c.validate(f.path());
  SHOG_CHECK(!f.has("llama.rope.dimension_count") || u("llama.rope.dimension_count") == c.head_dim(),
             ErrorKind::unsupported, f.path() + ": metadata 'llama.rope.dimension_count'",
             "partial rotary embedding ({} of {} head dims) is not supported", u("llama.rope.dimension_count"),
             c.head_dim());

  const ParamTable table(c);
  m.params.assign(size_t(table.total()), 0.0f);
  for (const auto& e : table.entries()) {
    const std::string name = gguf_name(e.name);
    const auto& t = f.tensor(name);
    SHOG_CHECK(t.shape == e.shape, ErrorKind::bad_input, f.path() + ": tensor '" + name + "'",
               "shape {}, the model's config needs {}", shape_str(t.shape), shape_str(e.shape));
    float* dst = m.params.data() + e.offset;
    if (is_q(e.name) || is_k(e.name)) {
      std::vector<float> tmp(size_t(e.numel));
      f.copy_f32(name, tmp.data(), e.numel);
      ggml_to_hf_rope_rows(tmp.data(), dst, is_q(e.name) ? c.n_head : c.n_kv_head, c.head_dim(), c.d_model);
    } else {
      f.copy_f32(name, dst, e.numel);
    }
  }
  m.tokenizer = read_tokenizer(f);
  SHOG_CHECK(m.tokenizer->vocab_size() <= c.vocab, ErrorKind::bad_input, f.path() + ": metadata 'tokenizer.ggml.tokens'",
             "{} tokens for {} embedding rows", m.tokenizer->vocab_size(), c.vocab);
  return m;
}

}  // namespace shog
