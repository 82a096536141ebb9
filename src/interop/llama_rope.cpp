#include "interop/llama_rope.h"

#include <cstring>

namespace shog {

void hf_to_ggml_rope_rows(const float* src, float* dst, int64_t n_heads, int64_t head_dim, int64_t cols) {
  const int64_t half = head_dim / 2;
  const size_t row = size_t(cols) * sizeof(float);
  for (int64_t h = 0; h < n_heads; ++h) {
    const float* s = src + h * head_dim * cols;
    float* d = dst + h * head_dim * cols;
    for (int64_t i = 0; i < half; ++i) {
      std::memcpy(d + (2 * i) * cols, s + i * cols, row);
      std::memcpy(d + (2 * i + 1) * cols, s + (half + i) * cols, row);
    }
  }
}

void ggml_to_hf_rope_rows(const float* src, float* dst, int64_t n_heads, int64_t head_dim, int64_t cols) {
  const int64_t half = head_dim / 2;
  const size_t row = size_t(cols) * sizeof(float);
  for (int64_t h = 0; h < n_heads; ++h) {
    const float* s = src + h * head_dim * cols;
    float* d = dst + h * head_dim * cols;
    for (int64_t i = 0; i < half; ++i) {
      std::memcpy(d + i * cols, s + (2 * i) * cols, row);
      std::memcpy(d + (half + i) * cols, s + (2 * i + 1) * cols, row);
    }
  }
}

}  // namespace shog
