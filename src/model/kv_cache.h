// The key/value cache of inference, paged: memory is a pool of fixed-size
// blocks (block_size token slots each, every layer), and each sequence owns a
// table of block indices, so sequences of very different lengths share one
// allocation without fragmenting it, and a finished sequence's blocks go back
// to a free list for the next one (the PagedAttention idea, Kwon et al. 2023).
//
// Grouped-query aware: a block holds n_kv_head heads, not n_head.
//
// Layout, per layer, per block, per kv head (f32, or bf16 to halve the
// memory and the bytes every decode step reads; attention math stays f32):
//   K  [hd][block_size]   transposed, so the scores of one query against a
//                         whole block are hd broadcast-FMAs on one vector of
//                         block_size lanes (no horizontal sums);
//   V  [block_size][hd]   so the weighted sum of values is FMAs of rows.
// Writing a token's key therefore scatters it with stride block_size; that
// happens once per token, reading it once per later query.
//
// The pool only does bookkeeping (which blocks, how many tokens are cached);
// Transformer::forward_cached writes and reads the contents.
#pragma once
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/tensor.h"
#include "model/model_config.h"

namespace shog {

using KvSeqId = int64_t;

class KvBlockPool {
 public:
  // num_blocks blocks of block_size tokens for every layer of `cfg`.
  // block_size must be 8, 16, 32 or 64 (the attention kernel's vector widths),
  // dtype f32 or bf16. Throws shog::Error (invalid_argument) on a bad size.
  KvBlockPool(const ModelConfig& cfg, int64_t num_blocks, int64_t block_size = 16, DType dtype = DType::f32);

  // How many blocks fit in `bytes` for this model (to size a pool by memory).
  static int64_t blocks_for_bytes(const ModelConfig& cfg, int64_t bytes, int64_t block_size = 16,
                                  DType dtype = DType::f32);
  static int64_t bytes_per_block(const ModelConfig& cfg, int64_t block_size = 16, DType dtype = DType::f32);

  int64_t block_size() const { return block_size_; }
  DType dtype() const { return dtype_; }
  int64_t num_blocks() const { return num_blocks_; }
  int64_t free_blocks() const { return int64_t(free_.size()); }
  int64_t used_blocks() const { return num_blocks_ - free_blocks(); }
  // Blocks needed to hold n tokens.
  int64_t blocks_for_tokens(int64_t n) const { return (n + block_size_ - 1) / block_size_; }

  // A new, empty sequence (no blocks yet).
  KvSeqId create_sequence();
  bool has_sequence(KvSeqId s) const { return seqs_.count(s) != 0; }
  // Returns all of its blocks to the free list; the id becomes invalid.
  void free_sequence(KvSeqId s);
  int64_t num_sequences() const { return int64_t(seqs_.size()); }

  // Tokens whose K/V are cached (the position the next token will take).
  int64_t length(KvSeqId s) const;
  const std::vector<int32_t>& block_table(KvSeqId s) const;
  // Makes room for `n` more tokens of each listed sequence, all or nothing:
  // if the free list cannot cover every sequence, nothing is allocated and
  // shog::Error (invalid_argument, "kv cache") says how many blocks were
  // missing. Does not change length(); commit() does once the K/V are written.
  void reserve(const std::vector<KvSeqId>& seqs, const std::vector<int64_t>& n);
  void reserve(KvSeqId s, int64_t n) { reserve(std::vector<KvSeqId>{s}, std::vector<int64_t>{n}); }
  // Records that these tokens of `s` are now cached, after those already
  // there (after reserve).
  void commit(KvSeqId s, std::span<const int32_t> tokens);
  // The id of cached token i of `s` (a model with a previous-token smear
  // reads the one before a new step's first token).
  int32_t token(KvSeqId s, int64_t i) const;
  // Forgets the last tokens so that `n` remain (blocks past them are freed).
  void truncate(KvSeqId s, int64_t n);

  // Storage of one layer (see the layout above), elements of dtype(); block
  // b starts at element b * block_floats().
  void* keys(int64_t layer) { return layer_ptr(k_, layer); }
  void* values(int64_t layer) { return layer_ptr(v_, layer); }
  int64_t block_floats() const { return n_kv_head_ * head_dim_ * block_size_; }
  int64_t n_kv_head() const { return n_kv_head_; }
  int64_t head_dim() const { return head_dim_; }
  int64_t n_layer() const { return n_layer_; }

 private:
  struct Seq {
    std::vector<int32_t> blocks;
    std::vector<int32_t> tokens;  // the cached token ids, in order
    int64_t length = 0;
    int64_t reserved = 0;  // token slots covered by blocks
  };
  Seq& seq(KvSeqId s, const char* what);
  const Seq& seq(KvSeqId s, const char* what) const;
  int64_t layer_floats() const { return num_blocks_ * block_floats(); }
  void* layer_ptr(Tensor& t, int64_t layer) {
    return static_cast<char*>(t.raw()) + size_t(layer * layer_floats()) * dtype_size(dtype_);
  }

  int64_t n_layer_, n_kv_head_, head_dim_, block_size_, num_blocks_;
  DType dtype_;
  Tensor k_, v_;
  std::vector<int32_t> free_;  // a stack: the most recently freed block is reused first (warm in cache)
  std::unordered_map<KvSeqId, Seq> seqs_;
  KvSeqId next_id_ = 0;
};

}  // namespace shog
