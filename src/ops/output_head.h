// The output head fused with log-softmax: logits = h W^T for h [N, C] and
// W [V, C], then log-probabilities of given targets. Processed in chunks of
// rows, so the N x V logits never exist at once (V is 50k: B*T*V floats would
// dwarf every other activation).
//
// Every objective in the stack is a function of per-token log-probs: cross-
// entropy is -sum w_t logp_t, SFT masks w, DPO/PPO/GRPO weight them by
// advantages or ratios. So the head's interface is log-probs forward and
// "gradient given dL/dlogp_t" backward; for plain weighted cross-entropy the
// fused call does both in one pass over the logits.
//
// Tokens with target < 0 are ignored (logp 0, no gradient).
// dt is the GEMM dtype: W_gemm points at W in that dtype (f32 master weights
// or their bf16 copy); h is f32 and converted per chunk when dt is bf16.
// Backward accumulates into dh [N, C] and dW [V, C] (f32); dW may be nullptr
// (a frozen head: its weight-gradient GEMM is skipped).
#pragma once
#include <cstdint>
#include <vector>

#include "core/dtype.h"

namespace shog::ops {

// Scratch for the chunked head; sized once per (chunk, C, V), reused.
// chunk_rows trades memory (chunk * V floats of logits) against GEMM
// efficiency: the dW product re-reads and re-writes all of dW [V, C] once per
// chunk, so small chunks turn the backward memory-bound.
class OutputHeadWorkspace {
 public:
  OutputHeadWorkspace(int64_t C, int64_t V, int64_t chunk_rows = 256);
  int64_t chunk_rows() const { return chunk_; }
  float* logits() { return logits_.data(); }         // [chunk, V]
  bf16* h_bf16() { return h_bf16_.data(); }          // [chunk, C]
  bf16* dlogits_bf16() { return dl_bf16_.data(); }   // [chunk, V]
  // Rows of h gathered when ignored tokens break a chunk into pieces, the dh
  // of such a chunk before it is scattered back, and which rows they were.
  float* h_gathered() { return h_f32_.data(); }      // [chunk, C]
  float* dh_gathered() { return dh_f32_.data(); }    // [chunk, C]
  int64_t* row_index() { return rows_.data(); }      // [chunk]

 private:
  int64_t chunk_;
  std::vector<float> logits_;
  std::vector<bf16> h_bf16_, dl_bf16_;
  std::vector<float> h_f32_, dh_f32_;
  std::vector<int64_t> rows_;
};

// logp[n] = log softmax(h[n] W^T)[targets[n]].
void output_head_logprobs(float* logp, const float* h, const void* W_gemm, DType dt, const int32_t* targets,
                          int64_t N, int64_t C, int64_t V, OutputHeadWorkspace& ws);

// Backward from g[n] = dL/dlogp[n]: dlogits = g * (onehot - softmax).
void output_head_backward(float* dh, float* dW, const float* h, const void* W_gemm, DType dt,
                          const int32_t* targets, const float* g, int64_t N, int64_t C, int64_t V,
                          OutputHeadWorkspace& ws);

// Weighted cross-entropy, forward and backward in one pass:
//   loss = -sum_n weight[n] * logp[n]     (the caller scales weights, e.g. 1/count)
// Rows with weight 0 skip the backward GEMMs' work where possible. logp may be
// nullptr. Returns loss. dh/dW accumulate as in output_head_backward with g = -weight.
double output_head_cross_entropy(float* logp, float* dh, float* dW, const float* h, const void* W_gemm, DType dt,
                                 const int32_t* targets, const float* weight, int64_t N, int64_t C, int64_t V,
                                 OutputHeadWorkspace& ws);

}  // namespace shog::ops
