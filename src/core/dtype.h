// Element types and the bf16 <-> f32 conversions every backend agrees on.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace shog {

enum class DType : uint8_t { f32, bf16, i32 };

constexpr size_t dtype_size(DType t) { return t == DType::bf16 ? 2 : 4; }
std::string_view dtype_name(DType t);
// Parses "f32"/"float32", "bf16"/"bfloat16", "i32"/"int32"; throws shog::Error.
DType parse_dtype(std::string_view s, std::string_view where);

// bfloat16 storage: the top 16 bits of an IEEE float.
struct bf16 {
  uint16_t bits;
};

inline float bf16_to_f32(bf16 h) {
  uint32_t u = uint32_t(h.bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Round to nearest even, as PyTorch and oneDNN do; NaN stays NaN.
inline bf16 f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return bf16{uint16_t((u >> 16) | 0x40)};
  u += 0x7fffu + ((u >> 16) & 1u);
  return bf16{uint16_t(u >> 16)};
}

// IEEE half precision (f16) bit patterns, round to nearest even (what numpy
// and ggml do); subnormals, infinities and NaN preserved.
uint16_t f32_to_f16(float f);
float f16_to_f32(uint16_t h);

// Bulk conversions (vectorised, OpenMP over the range).
void convert_f32_to_bf16(const float* src, bf16* dst, size_t n);
void convert_bf16_to_f32(const bf16* src, float* dst, size_t n);

}  // namespace shog
