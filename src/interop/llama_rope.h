// The q/k row order llama.cpp expects for the LLAMA architecture.
//
// Hugging Face's Llama applies RoPE "rotate-half" style: within each head of
// size d, dimension i is rotated together with dimension i + d/2. ggml's
// LLAMA rope ("normal" mode) rotates adjacent pairs (2i, 2i+1) instead. Both
// compute the same attention scores if the rows of Wq and Wk are reordered
// per head so that HF row i lands at 2i and HF row i + d/2 at 2i + 1:
//
//   gguf_row[h*d + 2i]     = hf_row[h*d + i]
//   gguf_row[h*d + 2i + 1] = hf_row[h*d + d/2 + i]        (0 <= i < d/2)
//
// (the frequency of pair i is theta^(-2i/d) in both conventions, so the
// reordered q and k see identical rotations). Q uses the query head count,
// K the key/value head count. V and every other matrix are untouched.
#pragma once
#include <cstdint>

namespace shog {

// src and dst are [n_heads * head_dim, cols] row-major and must not alias.
void hf_to_ggml_rope_rows(const float* src, float* dst, int64_t n_heads, int64_t head_dim, int64_t cols);
void ggml_to_hf_rope_rows(const float* src, float* dst, int64_t n_heads, int64_t head_dim, int64_t cols);

}  // namespace shog
