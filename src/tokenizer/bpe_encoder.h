// Byte-level BPE over one pre-token: start from one token per byte, then
// repeatedly merge the adjacent pair with the lowest priority (leftmost on a
// tie) until no adjacent pair has a merge. Two ways of saying which pairs
// merge, matching the two families of files we load:
//
//  - ranks (tiktoken): any two adjacent tokens whose concatenated bytes are a
//    token merge, with that token's rank (= id) as priority. A pre-token that
//    is itself a token is emitted directly, as tiktoken does.
//  - merges (Hugging Face, and our trained files): only listed pairs merge,
//    earlier in the list first. "ignore_merges" (Llama 3) adds the same
//    whole-pre-token shortcut.
//
// Both reduce to one table (left id, right id) -> (priority, result id),
// built once at load time, so the hot loop never hashes byte strings.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/hash_table.h"

namespace shog {

enum class MergeOrder : uint8_t { ranks, merges };

class BpeModel {
 public:
  // `tokens[id]` are the bytes of each ordinary token; `present[id]` false
  // marks an unused id (tiktoken vocabularies have holes). Every single byte
  // must be a token. `merges` (merges order only) are pairs of ids; each
  // pair's concatenation must be a token. Throws shog::Error (bad_input)
  // naming `where` if not.
  BpeModel(std::vector<std::string> tokens, std::vector<bool> present, MergeOrder order,
           std::vector<std::pair<int32_t, int32_t>> merges, bool whole_piece_shortcut, const std::string& where);

  // Appends the ids of one pre-token (any bytes, non-empty).
  void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;

  // Id of the ordinary token with exactly these bytes.
  std::optional<int32_t> find(std::string_view bytes) const {
    int32_t id = lookup_.find(bytes);
    return id < 0 ? std::nullopt : std::optional<int32_t>(id);
  }
  int32_t size() const { return int32_t(tokens_.size()); }  // max id + 1
  bool present(int32_t id) const { return id >= 0 && id < size() && present_[id]; }
  const std::string& bytes(int32_t id) const { return tokens_[id]; }
  MergeOrder order() const { return order_; }
  bool whole_piece_shortcut() const { return shortcut_; }
  const std::vector<std::pair<int32_t, int32_t>>& merges() const { return merges_; }

 private:
  void encode_small(const uint8_t* p, size_t n, std::vector<int32_t>& out) const;
  void encode_large(const uint8_t* p, size_t n, std::vector<int32_t>& out) const;

  std::vector<std::string> tokens_;
  std::vector<bool> present_;
  MergeOrder order_;
  std::vector<std::pair<int32_t, int32_t>> merges_;
  bool shortcut_;
  int32_t byte_id_[256];
  detail::BytesTable lookup_;
  detail::PairTable pairs_;
};

}  // namespace shog
