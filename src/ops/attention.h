// Causal self-attention with grouped-query heads, computed tile by tile with
// an online softmax (FlashAttention, Dao et al. 2022): memory is O(T*hd) per
// head, there is never a T x T score matrix. Query head h reads key/value
// head h / (H / KVH).
//
// Layouts: q [B, T, H, hd], k and v [B, T, KVH, hd], each with its own token
// stride (elements between token t and t+1), so they can be views into one
// fused qkv buffer. out [B, T, H, hd] contiguous. lse [B, H, T] is the
// log-sum-exp of each query's scaled scores, saved for the backward, which
// recomputes the probabilities tile by tile. Scale is 1/sqrt(hd).
// Backward accumulates into dq, dk, dv (same strides as q, k, v).
#pragma once
#include <cstdint>
#include <span>

namespace shog::ops {

struct AttentionShape {
  int64_t B, T, H, KVH, hd;
  int64_t q_stride, kv_stride;  // token strides of q, and of k and v
};

void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                       const AttentionShape& s);
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* out, const float* lse,
                        const float* q, const float* k, const float* v, const AttentionShape& s);

// Packed rows (sequence packing for SFT): each row of T tokens holds several
// independent samples back to back. seg_lens lists the samples' lengths, row
// after row; each row's lengths must sum to T. A token attends only to
// earlier tokens of its own sample, so nothing crosses a sample boundary.
// lse is laid out per sample ([H, len] from offset H * its first token),
// which is what attention_backward_packed reads; same total size.
void attention_forward_packed(float* out, float* lse, const float* q, const float* k, const float* v,
                              const AttentionShape& s, std::span<const int32_t> seg_lens);
void attention_backward_packed(float* dq, float* dk, float* dv, const float* dout, const float* out,
                               const float* lse, const float* q, const float* k, const float* v,
                               const AttentionShape& s, std::span<const int32_t> seg_lens);

}  // namespace shog::ops
