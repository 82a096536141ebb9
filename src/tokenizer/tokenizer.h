// The public tokenizer: byte-level BPE with a regex pre-split and special
// tokens, loaded from our own file, tiktoken rank files (.tiktoken or
// js-tiktoken's rank JSON) or a Hugging Face tokenizer.json. Immutable once
// built; copies share the tables, and every method is safe to call from
// many threads at once.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/bpe_encoder.h"
#include "tokenizer/special_tokens.h"

namespace shog {

// Everything needed to build a Tokenizer; what every loader produces.
struct TokenizerSpec {
  std::vector<std::string> tokens;  // ordinary tokens' bytes by id
  std::vector<bool> present;        // same length; false for unused ids
  MergeOrder order = MergeOrder::merges;
  std::vector<std::pair<int32_t, int32_t>> merges;  // MergeOrder::merges only
  bool whole_piece_shortcut = false;
  std::string pattern;            // PCRE2 split regex
  std::vector<AddedToken> added;  // special and added tokens, with their ids
  std::string normalizer;         // "" or "NFC" (recorded; see docs/formats.md)
};

class Tokenizer {
 public:
  // Loads by content/extension: our own tokenizer file, a .tiktoken rank
  // file, js-tiktoken's rank JSON, or an HF tokenizer.json. Throws
  // shog::Error naming the file and problem.
  static Tokenizer load(const std::string& path);
  // Builds from parts; `where` names the source in errors.
  static Tokenizer from_spec(TokenizerSpec spec, const std::string& where);
  // Parses file contents as load() would; `name` stands in for the path.
  static Tokenizer parse(std::string_view content, const std::string& name);

  // Special-token text is treated as plain text (HF non-special added tokens
  // are still matched, as Hugging Face always does).
  std::vector<int32_t> encode(std::string_view text) const;
  // Special/added tokens in text are matched first (HF rule).
  std::vector<int32_t> encode_with_special(std::string_view text) const;
  // Encodes each text on up to `threads` threads (0: all cores).
  std::vector<std::vector<int32_t>> encode_batch(const std::vector<std::string>& texts, int threads = 0) const;
  // Bytes; may be invalid UTF-8 when ids split a character. Throws shog::Error
  // (invalid_argument) on an id that is not in the vocabulary.
  std::string decode(std::span<const int32_t> ids) const;

  int32_t vocab_size() const;  // including specials: max id + 1
  std::optional<int32_t> special_id(std::string_view text) const;
  bool is_special(int32_t id) const;
  // The bytes of one token (a special's text for a special).
  const std::string& token_bytes(int32_t id) const;
  const std::string& pattern() const;
  const BpeModel& model() const;
  const std::vector<AddedToken>& added_tokens() const;
  const std::string& normalizer() const;

  // Our format (docs/formats.md), written atomically.
  void save(const std::string& path) const;

  struct Data;

 private:
  explicit Tokenizer(std::shared_ptr<const Data> d) : d_(std::move(d)) {}
  void encode_into(std::string_view text, bool with_special, std::vector<int32_t>& out) const;
  void encode_ordinary(std::string_view text, std::vector<int32_t>& out) const;
  std::shared_ptr<const Data> d_;
};

}  // namespace shog
