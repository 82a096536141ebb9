// GGUF (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md), version 3,
// the single-file model format of llama.cpp:
//
//   "GGUF" | u32 version | u64 tensor count | u64 KV count
//   KV pairs:      string key | u32 value type | value   (arrays: u32 type | u64 n | n values)
//   tensor infos:  string name | u32 n_dims | u64 dims[n_dims] | u32 ggml type | u64 offset
//   padding to `general.alignment` (u32, default 32)
//   data section:  each tensor at its offset, a multiple of the alignment
//
// Strings are u64 length + UTF-8 bytes; everything is little-endian. Dims
// are in ggml order: dims[0] is the fastest-varying one, so a row-major
// PyTorch tensor [rows, cols] is stored with dims {cols, rows}. The API here
// speaks PyTorch order (`shape`) and converts at the boundary.
//
// Like the safetensors reader, this one trusts nothing: every length, count,
// type and offset is checked against the file before it is used, and a
// problem is a shog::Error(bad_input) naming the file and the field. Tensors
// must lie in the data section in info order, each at the previous one's
// end rounded up to the alignment; that is what ggml's own reader demands, so
// a file we accept is one llama.cpp accepts.
#pragma once
#include "core/dtype.h"
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/file_io.h"
#include "core/tensor.h"

namespace shog {

enum class GgufType : uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7,
  string = 8, array = 9, u64 = 10, i64 = 11, f64 = 12,
};
std::string_view gguf_type_name(GgufType t);

// ggml tensor element types (ggml.h's enum ggml_type). Only f32, f16 and bf16
// carry shoggoth models; the others are known so that any valid file can be
// opened and its sizes checked.
enum class GgmlType : uint32_t {
  f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9,
  q2_k = 10, q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, q8_k = 15,
  iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22, iq4_xs = 23,
  i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30,
  tq1_0 = 34, tq2_0 = 35, mxfp4 = 39,
};
// Name ("F32", "Q4_K", ...), or nullopt for an id this reader does not know.
std::optional<std::string_view> ggml_type_name(uint32_t id);
// Bytes of a row of `n` elements; nullopt if n is not a whole number of blocks.
std::optional<uint64_t> ggml_row_bytes(GgmlType t, uint64_t n);

// One metadata value. Arrays hold their elements (all of `elem_type`).
struct GgufValue {
  GgufType type = GgufType::u32;
  uint64_t u = 0;   // u8..u64, bool
  int64_t i = 0;    // i8..i64
  double f = 0;     // f32, f64
  std::string s;    // string
  GgufType elem_type = GgufType::u32;
  std::vector<GgufValue> arr;

  static GgufValue of_u32(uint32_t v);
  static GgufValue of_i32(int32_t v);
  static GgufValue of_u64(uint64_t v);
  static GgufValue of_f32(float v);
  static GgufValue of_bool(bool v);
  static GgufValue of_str(std::string v);
  static GgufValue of_strs(std::vector<std::string> v);
  static GgufValue of_i32s(const std::vector<int32_t>& v);
  static GgufValue of_f32s(const std::vector<float>& v);
};

struct GgufTensorInfo {
  std::string name;
  Shape shape;              // PyTorch order (ggml dims reversed)
  GgmlType type;
  uint64_t offset = 0;      // within the data section
  uint64_t nbytes = 0;
  const uint8_t* data = nullptr;  // into the file's bytes
  int64_t numel() const { return shape_numel(shape); }
};

class GgufFile {
 public:
  // Maps and validates the whole file; throws shog::Error.
  explicit GgufFile(const std::string& path);
  // Parses bytes that the caller keeps alive (fuzzing, tests); `name` stands
  // for the path in errors.
  GgufFile(const uint8_t* data, size_t size, std::string name);

  const std::string& path() const { return name_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  // Keys in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kvs_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }

  bool has(std::string_view key) const;
  // Typed getters: bad_input naming the file and key when it is absent or of
  // another type. get_uint accepts any unsigned/non-negative integer type and
  // get_float f32 or f64, since writers differ in the width they pick.
  const GgufValue& get(std::string_view key) const;
  uint64_t get_uint(std::string_view key) const;
  double get_float(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  const std::string& get_str(std::string_view key) const;
  std::vector<std::string> get_strs(std::string_view key) const;
  std::vector<int64_t> get_ints(std::string_view key) const;

  bool has_tensor(std::string_view name) const;
  const GgufTensorInfo& tensor(std::string_view name) const;
  // Copies an F32, F16 or BF16 tensor as f32; n must equal its element count.
  void copy_f32(std::string_view name, float* dst, int64_t n) const;

 private:
  void parse(const uint8_t* data, size_t size);

  std::string name_;
  std::unique_ptr<MappedFile> map_;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  std::vector<std::pair<std::string, GgufValue>> kvs_;
  std::unordered_map<std::string, size_t> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

// Builds a GGUF v3 file: metadata in insertion order, tensors contiguous in
// insertion order, each padded to the alignment. The data pointers must stay
// valid until write() returns.
class GgufWriter {
 public:
  explicit GgufWriter(uint32_t alignment = 32);
  void set(std::string key, GgufValue v);  // replaces an existing key in place
  // `shape` in PyTorch order; `data` holds exactly the tensor's bytes.
  void add_tensor(std::string name, Shape shape, GgmlType type, const void* data, uint64_t nbytes);
  // Written atomically (AtomicFile).
  void write(const std::string& path) const;

 private:
  uint32_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> kvs_;
  struct Pending {
    std::string name;
    Shape shape;
    GgmlType type;
    const void* data;
    uint64_t nbytes;
  };
  std::vector<Pending> tensors_;
};


}  // namespace shog
