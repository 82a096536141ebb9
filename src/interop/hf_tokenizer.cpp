#include "interop/hf_tokenizer.h"

#include "core/error.h"
#include "interop/model_dir.h"
#include "tokenizer/byte_level.h"

namespace shog {

using nlohmann::ordered_json;

nlohmann::ordered_json hf_tokenizer_json(const Tokenizer& tok) {
  const BpeModel& bpe = tok.model();
  SHOG_CHECK(bpe.order() == MergeOrder::merges, ErrorKind::unsupported, "tokenizer",
             "tiktoken rank order cannot be written as a Hugging Face BPE merge list");
  ordered_json added = ordered_json::array();
  for (const auto& a : tok.added_tokens())
    added.push_back({{"id", a.id},
                     {"content", a.text},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", a.special}});
  ordered_json vocab = ordered_json::object();
  for (int32_t id = 0; id < bpe.size(); ++id)
    if (bpe.present(id)) vocab[byte_level::encode(bpe.bytes(id))] = id;
  // "left right" strings, the form every tokenizers version reads (byte-level
  // text never contains a space: a space byte is written as "Ġ").
  ordered_json merges = ordered_json::array();
  for (auto [a, b] : bpe.merges())
    merges.push_back(byte_level::encode(bpe.bytes(a)) + " " + byte_level::encode(bpe.bytes(b)));

  ordered_json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = added;
  j["normalizer"] = tok.normalizer().empty() ? ordered_json(nullptr) : ordered_json{{"type", tok.normalizer()}};
  // The regex splits, then ByteLevel (use_regex false: no second split) maps
  // bytes to the byte-level alphabet; the same pipeline as Llama 3's files.
  j["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Split"}, {"pattern", {{"Regex", tok.pattern()}}}, {"behavior", "Isolated"}, {"invert", false}},
        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}};
  // No template: encode never adds <|bos|> by itself, as Tokenizer::encode
  // does not; callers prepend it (docs/interop.md).
  j["post_processor"] = nullptr;
  j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  j["model"] = {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", nullptr},
                {"continuing_subword_prefix", nullptr},
                {"end_of_word_suffix", nullptr},
                {"fuse_unk", false},
                {"byte_fallback", false},
                {"ignore_merges", bpe.whole_piece_shortcut()},
                {"vocab", vocab},
                {"merges", merges}};
  return j;
}

nlohmann::ordered_json hf_tokenizer_config(const Tokenizer& tok, int64_t model_max_length) {
  const SpecialIds ids = find_special_ids(tok);
  ordered_json decoder = ordered_json::object();
  for (const auto& a : tok.added_tokens())
    decoder[std::to_string(a.id)] = {{"content", a.text},  {"lstrip", false}, {"normalized", false},
                                     {"rstrip", false},    {"single_word", false}, {"special", a.special}};
  ordered_json j;
  j["tokenizer_class"] = "PreTrainedTokenizerFast";
  j["added_tokens_decoder"] = decoder;
  if (ids.bos) j["bos_token"] = tok.token_bytes(*ids.bos);
  if (ids.eos) j["eos_token"] = tok.token_bytes(*ids.eos);
  if (ids.pad) j["pad_token"] = tok.token_bytes(*ids.pad);
  j["clean_up_tokenization_spaces"] = false;
  j["model_max_length"] = model_max_length;
  return j;
}

}  // namespace shog
