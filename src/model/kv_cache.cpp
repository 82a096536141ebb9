#include "model/kv_cache.h"

#include <algorithm>

#include "core/error.h"

namespace shog {

int64_t KvBlockPool::bytes_per_block(const ModelConfig& cfg, int64_t block_size, DType dtype) {
  // K and V, every layer.
  return 2 * cfg.n_layer * cfg.n_kv_head * cfg.head_dim() * block_size * int64_t(dtype_size(dtype));
}

int64_t KvBlockPool::blocks_for_bytes(const ModelConfig& cfg, int64_t bytes, int64_t block_size, DType dtype) {
  return bytes / bytes_per_block(cfg, block_size, dtype);
}

KvBlockPool::KvBlockPool(const ModelConfig& cfg, int64_t num_blocks, int64_t block_size, DType dtype)
    : n_layer_(cfg.n_layer),
      n_kv_head_(cfg.n_kv_head),
      head_dim_(cfg.head_dim()),
      block_size_(block_size),
      num_blocks_(num_blocks),
      dtype_(dtype) {
  SHOG_CHECK(dtype == DType::f32 || dtype == DType::bf16, ErrorKind::invalid_argument, "kv cache",
             "dtype must be f32 or bf16, got {}", dtype_name(dtype));
  SHOG_CHECK(block_size == 8 || block_size == 16 || block_size == 32 || block_size == 64,
             ErrorKind::invalid_argument, "kv cache", "block size {} must be 8, 16, 32 or 64", block_size);
  SHOG_CHECK(num_blocks >= 1 && num_blocks < (int64_t(1) << 31), ErrorKind::invalid_argument, "kv cache",
             "number of blocks {} must be in [1, 2^31)", num_blocks);
  const int64_t n = n_layer_ * num_blocks_ * block_floats();
  k_ = Tensor::empty(dtype, {n});
  v_ = Tensor::empty(dtype, {n});
  free_.resize(size_t(num_blocks_));
  // Block 0 on top of the stack, so a fresh pool hands out blocks in order.
  for (int64_t i = 0; i < num_blocks_; ++i) free_[size_t(i)] = int32_t(num_blocks_ - 1 - i);
}

KvSeqId KvBlockPool::create_sequence() {
  KvSeqId id = next_id_++;
  seqs_.emplace(id, Seq{});
  return id;
}

KvBlockPool::Seq& KvBlockPool::seq(KvSeqId s, const char* what) {
  auto it = seqs_.find(s);
  SHOG_CHECK(it != seqs_.end(), ErrorKind::internal, "kv cache", "{}: no sequence {}", what, s);
  return it->second;
}

const KvBlockPool::Seq& KvBlockPool::seq(KvSeqId s, const char* what) const {
  auto it = seqs_.find(s);
  SHOG_CHECK(it != seqs_.end(), ErrorKind::internal, "kv cache", "{}: no sequence {}", what, s);
  return it->second;
}

void KvBlockPool::free_sequence(KvSeqId s) {
  Seq& q = seq(s, "free_sequence");
  // Pushed in reverse so the sequence's first block is reused first.
  for (auto it = q.blocks.rbegin(); it != q.blocks.rend(); ++it) free_.push_back(*it);
  seqs_.erase(s);
}

int64_t KvBlockPool::length(KvSeqId s) const { return seq(s, "length").length; }

const std::vector<int32_t>& KvBlockPool::block_table(KvSeqId s) const { return seq(s, "block_table").blocks; }

void KvBlockPool::reserve(const std::vector<KvSeqId>& seqs, const std::vector<int64_t>& n) {
  SHOG_ASSERT(seqs.size() == n.size());
  // Count first so that a failure allocates nothing: a step either gets all
  // of its room or none, and the caller can retry later with fewer sequences.
  int64_t need = 0;
  for (size_t i = 0; i < seqs.size(); ++i) {
    const Seq& q = seq(seqs[i], "reserve");
    SHOG_CHECK(n[i] >= 0, ErrorKind::internal, "kv cache", "reserve of {} tokens", n[i]);
    const int64_t want = q.length + n[i];
    if (want > q.reserved) need += blocks_for_tokens(want) - int64_t(q.blocks.size());
  }
  SHOG_CHECK(need <= free_blocks(), ErrorKind::invalid_argument, "kv cache",
             "out of blocks: {} more needed, {} free of {} ({} tokens each); use a larger cache or fewer/shorter "
             "sequences",
             need, free_blocks(), num_blocks_, block_size_);
  for (size_t i = 0; i < seqs.size(); ++i) {
    Seq& q = seq(seqs[i], "reserve");
    const int64_t want = q.length + n[i];
    while (q.reserved < want) {
      q.blocks.push_back(free_.back());
      free_.pop_back();
      q.reserved += block_size_;
    }
  }
}

void KvBlockPool::commit(KvSeqId s, std::span<const int32_t> tokens) {
  Seq& q = seq(s, "commit");
  const int64_t n = int64_t(tokens.size());
  SHOG_CHECK(q.length + n <= q.reserved, ErrorKind::internal, "kv cache",
             "commit of {} tokens to sequence {} with {} cached and room for {}", n, s, q.length, q.reserved);
  q.tokens.insert(q.tokens.end(), tokens.begin(), tokens.end());
  q.length += n;
}

int32_t KvBlockPool::token(KvSeqId s, int64_t i) const {
  const Seq& q = seq(s, "token");
  SHOG_CHECK(i >= 0 && i < q.length, ErrorKind::internal, "kv cache", "token {} of sequence {} with {} cached", i, s,
             q.length);
  return q.tokens[size_t(i)];
}

void KvBlockPool::truncate(KvSeqId s, int64_t n) {
  Seq& q = seq(s, "truncate");
  SHOG_CHECK(n >= 0 && n <= q.length, ErrorKind::internal, "kv cache", "truncate sequence {} of {} tokens to {}", s,
             q.length, n);
  q.length = n;
  q.tokens.resize(size_t(n));
  const int64_t keep = blocks_for_tokens(n);
  while (int64_t(q.blocks.size()) > keep) {
    free_.push_back(q.blocks.back());
    q.blocks.pop_back();
  }
  q.reserved = keep * block_size_;
}

}  // namespace shog
