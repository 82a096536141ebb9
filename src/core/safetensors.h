// safetensors (https://github.com/huggingface/safetensors), the checkpoint
// format of Hugging Face models and of shoggoth:
//   [u64 little-endian N][N bytes of JSON header][data section]
// The header maps each tensor name to {"dtype", "shape", "data_offsets":
// [begin, end)} (offsets relative to the data section) plus an optional
// "__metadata__" map of strings to strings.
//
// The reader trusts nothing in the file: every field is checked, and the
// tensors must tile the data section exactly (no overlap, no gap, no trailing
// bytes), as the reference implementation requires, so that a file we accept
// is one every other safetensors reader accepts. Problems are shog::Error
// (bad_input) naming the file and the tensor or field.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/dtype.h"
#include "core/file_io.h"
#include "core/tensor.h"

namespace shog {

// Every dtype the format defines, so that any valid file can be opened and
// validated; only f32, bf16, i32 (and f16, converted) can be used.
enum class StDType : uint8_t { f64, f32, f16, bf16, i64, i32, i16, i8, u64, u32, u16, u8, boolean, f8_e4m3, f8_e5m2 };

std::string_view st_dtype_name(StDType t);  // "F32", "BF16", ...
size_t st_dtype_size(StDType t);
StDType to_st_dtype(DType t);

struct SafetensorsEntry {
  std::string name;
  StDType dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;     // byte range within the data section
  const uint8_t* data = nullptr;   // into the mapping
  size_t nbytes() const { return size_t(end - begin); }
  int64_t numel() const { return shape_numel(shape); }
};

class SafetensorsFile {
 public:
  // Maps and validates the whole header; throws shog::Error.
  explicit SafetensorsFile(const std::string& path);
  // Parses bytes that the caller keeps alive (fuzzing, tests); `name` stands
  // for the path in errors.
  SafetensorsFile(const uint8_t* data, size_t size, std::string name);

  const std::string& path() const { return path_; }
  // Tensors in header order.
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool contains(std::string_view name) const;
  // Throws bad_input naming the file and tensor when absent.
  const SafetensorsEntry& at(std::string_view name) const;

  // A borrowed, read-only view into the mapping (f32, bf16 and i32 only); it
  // must not outlive this object. Throws unsupported for other dtypes, or when
  // the bytes are not aligned to the element size (a file whose preceding
  // tensors have odd byte sizes); copy_f32 works in every such case.
  Tensor view(std::string_view name) const;
  // Copies a F32, BF16 or F16 tensor into dst as f32; n must equal numel.
  void copy_f32(std::string_view name, float* dst, int64_t n) const;
  std::vector<float> to_f32(std::string_view name) const;

 private:
  void parse(const uint8_t* base, uint64_t fsize);

  std::string path_;
  std::unique_ptr<MappedFile> map_;  // null when parsing borrowed bytes
  const uint8_t* base_ = nullptr;
  std::vector<SafetensorsEntry> entries_;
  std::unordered_map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// One tensor to write; `data` holds numel * element size bytes.
struct SafetensorsTensor {
  std::string name;
  StDType dtype;
  Shape shape;
  const void* data;
};

// Writes atomically (AtomicFile), tensors contiguous in the given order. The
// header is padded with spaces so that the data section starts at a multiple
// of 8 bytes, which keeps every tensor whose predecessors have sizes that are
// multiples of its element size naturally aligned in a mapping.
void write_safetensors(const std::string& path, const std::vector<SafetensorsTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace shog
