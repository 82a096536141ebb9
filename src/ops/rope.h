// Rotary position embedding (Su et al. 2021) in the Hugging Face Llama form
// ("rotate_half"): within each head of size hd, element i pairs with
// i + hd/2, and the pair is rotated by angle pos * theta^(-2i/hd).
// Applied in place to x laid out [B, T, H, hd] with a token stride (elements
// between consecutive tokens) so q and k can live inside one fused qkv buffer.
// The backward is the inverse rotation of the incoming gradient, in place: the
// one op whose backward overwrites rather than accumulates (dx holds dL/dy on
// entry and dL/dx on return), since q/k gradients pass through it exactly once.
// Positions index the tables and must be < max_seq; the kernels cannot check.
#pragma once
#include <cstdint>

namespace shog::ops {

// cos/sin tables [max_seq, hd/2].
void rope_table(float* cos, float* sin, int64_t max_seq, int64_t hd, float theta);

// pos: position of each token, [B*T], or nullptr for pos = t.
void rope_forward(float* x, const float* cos, const float* sin, const int32_t* pos, int64_t B, int64_t T, int64_t H,
                  int64_t hd, int64_t token_stride);
void rope_backward(float* dx, const float* cos, const float* sin, const int32_t* pos, int64_t B, int64_t T, int64_t H,
                   int64_t hd, int64_t token_stride);

}  // namespace shog::ops
