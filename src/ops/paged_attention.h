// Attention of new tokens over a paged key/value cache (model/kv_cache.h),
// for inference: every sequence of a batch brings n_q new queries at
// positions pos0 .. pos0 + n_q - 1 (a prefill chunk, or one decode token), and
// query i sees the keys at positions 0 .. pos0 + i: everything cached before
// the chunk and the chunk itself causally. The new tokens' keys and values
// must already be in the cache (paged_kv_store), or be handed over to be
// stored by the call itself (PagedNewKv), so one rule covers prefill,
// chunked prefill and decode alike. Grouped-query: query head h reads kv head
// h / (H / KVH). Scale 1/sqrt(hd). Forward only (no saved softmax state).
//
// Cache layout (per layer), block b, kv head g:
//   K at k_cache + (b * KVH + g) * hd * BS, stored [hd][BS] (transposed)
//   V at v_cache + (b * KVH + g) * BS * hd, stored [BS][hd]
// where BS = block_size (8, 16, 32 or 64). Elements are f32 or bf16 (kv_dtype;
// bf16 halves the bytes read per step, the arithmetic stays f32).
//
// q: row r of the batch at q + r * q_stride, heads [H][hd] (a view into a
// fused qkv buffer); out [rows, H * hd] contiguous.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace shog::ops {

struct PagedSequence {
  int64_t q_row;          // first row of this sequence's queries in q / out
  int64_t n_q;            // how many new queries
  int64_t pos0;           // position of the first one
  const int32_t* blocks;  // block table covering positions [0, pos0 + n_q)
};

struct PagedAttentionShape {
  int64_t H, KVH, hd, block_size;
  int64_t q_stride;
  DType kv_dtype = DType::f32;
};

// The batch's own new keys and values, for paged_attention_forward to store
// itself: row r's k at k + r * stride (heads [KVH][hd]), likewise v, going to
// slot[r] as in paged_kv_store.
struct PagedNewKv {
  const float* k = nullptr;
  const float* v = nullptr;
  int64_t stride = 0;
  const int64_t* slot = nullptr;
};
// With `fresh`, the new tokens' keys and values need not be in the cache
// yet: the call writes them first, the rows of a prefill chunk before any
// query is read, a decode row's (n_q = 1) by the unit that reads it, just
// before that unit reaches the block they go into. That block is then already
// on its way into cache for the unit's reads; written by a separate
// paged_kv_store beforehand, every one of its lines was a miss to memory
// (d12 f32, batch 16: ~0.7 ms of a 32 ms step).
void paged_attention_forward(float* out, const float* q, void* k_cache, void* v_cache,
                             const PagedSequence* seqs, int64_t n_seqs, const PagedAttentionShape& s,
                             const PagedNewKv* fresh = nullptr);

// Writes N tokens' keys and values into the cache. Token n's k is at
// k + n * kv_stride (heads [KVH][hd]), likewise v; it goes to block
// slot[n] / BS, offset slot[n] % BS.
void paged_kv_store(void* k_cache, void* v_cache, const float* k, const float* v, int64_t kv_stride,
                    const int64_t* slot, int64_t N, const PagedAttentionShape& s);

}  // namespace shog::ops
