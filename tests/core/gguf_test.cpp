// GGUF: our writer's output read back by our reader (every metadata type,
// arrays, tensors of several ggml types, alignment), the byte layout checked
// against the spec by hand, and one test per corruption, each checking that
// the error is bad_input and names the file and the field.
#include "core/gguf.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"

namespace shog {
namespace {

std::string tmp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()) + ".gguf")).string();
}

// A small valid file: metadata of each kind and three tensors.
struct Sample {
  std::vector<float> a{1, 2, 3, 4, 5, 6};      // [2, 3] f32
  std::vector<uint16_t> b{0x3c00, 0xc000};     // [2] f16: 1, -2
  std::vector<uint16_t> c{0x3f80, 0x4040, 0};  // [3] bf16: 1, 3, 0

  std::string write(const std::string& path, uint32_t alignment = 32) const {
    GgufWriter w(alignment);
    w.set("general.architecture", GgufValue::of_str("llama"));
    w.set("n", GgufValue::of_u32(7));
    w.set("x", GgufValue::of_f32(0.5f));
    w.set("flag", GgufValue::of_bool(true));
    w.set("big", GgufValue::of_u64(1ull << 40));
    w.set("neg", GgufValue::of_i32(-3));
    w.set("names", GgufValue::of_strs({"a", "", "ccc"}));
    w.set("ids", GgufValue::of_i32s({1, -2, 3}));
    w.add_tensor("a", {2, 3}, GgmlType::f32, a.data(), 24);
    w.add_tensor("b", {2}, GgmlType::f16, b.data(), 4);
    w.add_tensor("c", {3}, GgmlType::bf16, c.data(), 6);
    w.write(path);
    return path;
  }
};

std::string bytes_of(const std::string& path) { return read_file(path); }

// Parses bytes and returns the error (or fails the test if none).
Error parse_error(const std::string& bytes) {
  try {
    GgufFile f(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "bad.gguf");
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error";
  return Error(ErrorKind::internal, "", "");
}

void expect_error(const std::string& bytes, const std::string& field) {
  Error e = parse_error(bytes);
  EXPECT_EQ(e.kind(), ErrorKind::bad_input) << e.what();
  EXPECT_NE(std::string(e.what()).find("bad.gguf"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << "expected '" << field << "' in: " << e.what();
}

// Offset of the first occurrence of `needle`, so tests can patch fields.
size_t find(const std::string& s, std::string_view needle) {
  size_t p = s.find(needle);
  EXPECT_NE(p, std::string::npos);
  return p;
}
template <class T>
void patch(std::string& s, size_t off, T v) {
  std::memcpy(s.data() + off, &v, sizeof v);
}
// The tensor-info fields of tensor `name`: after its name come n_dims,
// dims, type and offset.
size_t info_of(const std::string& s, const std::string& name, uint32_t n_dims) {
  std::string key(8, '\0');
  uint64_t n = name.size();
  std::memcpy(key.data(), &n, 8);
  key += name;
  key += std::string("\0\0\0\0", 4);
  std::memcpy(key.data() + 8 + name.size(), &n_dims, 4);
  return find(s, key) + key.size();  // -> dims
}

TEST(Gguf, RoundTripMetadataAndTensors) {
  Sample s;
  const std::string path = s.write(tmp_path("gguf_rt"));
  GgufFile f(path);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.get_str("general.architecture"), "llama");
  EXPECT_EQ(f.get_uint("n"), 7u);
  EXPECT_EQ(f.get_float("x"), 0.5);
  EXPECT_TRUE(f.get_bool("flag"));
  EXPECT_EQ(f.get_uint("big"), 1ull << 40);
  EXPECT_EQ(f.get("neg").i, -3);
  EXPECT_EQ(f.get_strs("names"), (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(f.get_ints("ids"), (std::vector<int64_t>{1, -2, 3}));
  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.tensor("a").shape, (Shape{2, 3}));
  for (const auto& t : f.tensors()) {
    EXPECT_EQ(t.offset % 32, 0u) << t.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 32, 0u) << t.name;  // mmap is page aligned
  }
  std::vector<float> a(6), b(2), c(3);
  f.copy_f32("a", a.data(), 6);
  f.copy_f32("b", b.data(), 2);
  f.copy_f32("c", c.data(), 3);
  EXPECT_EQ(a, s.a);
  EXPECT_EQ(b, (std::vector<float>{1, -2}));
  EXPECT_EQ(c, (std::vector<float>{1, 3, 0}));
  // Metadata keeps file order.
  EXPECT_EQ(f.metadata().front().first, "general.architecture");
  std::filesystem::remove(path);
}

TEST(Gguf, LayoutFollowsTheSpec) {
  Sample s;
  const std::string path = s.write(tmp_path("gguf_layout"));
  const std::string b = bytes_of(path);
  EXPECT_EQ(b.substr(0, 4), "GGUF");
  uint32_t version;
  uint64_t n_tensors, n_kv;
  std::memcpy(&version, b.data() + 4, 4);
  std::memcpy(&n_tensors, b.data() + 8, 8);
  std::memcpy(&n_kv, b.data() + 16, 8);
  EXPECT_EQ(version, 3u);
  EXPECT_EQ(n_tensors, 3u);
  EXPECT_EQ(n_kv, 8u);
  // First KV: u64 key length, key, u32 type STRING (8), u64 length, "llama".
  uint64_t klen;
  std::memcpy(&klen, b.data() + 24, 8);
  EXPECT_EQ(klen, 20u);
  EXPECT_EQ(b.substr(32, 20), "general.architecture");
  uint32_t type;
  std::memcpy(&type, b.data() + 52, 4);
  EXPECT_EQ(type, 8u);
  // Tensor 'a' [2, 3] is stored with ggml dims {3, 2}, type F32, offset 0.
  size_t d = info_of(b, "a", 2);
  uint64_t d0, d1, off;
  std::memcpy(&d0, b.data() + d, 8);
  std::memcpy(&d1, b.data() + d + 8, 8);
  std::memcpy(&type, b.data() + d + 16, 4);
  std::memcpy(&off, b.data() + d + 20, 8);
  EXPECT_EQ(d0, 3u);
  EXPECT_EQ(d1, 2u);
  EXPECT_EQ(type, 0u);
  EXPECT_EQ(off, 0u);
  // 'b' follows 'a' (24 bytes) at the next multiple of 32, 'c' after that.
  std::memcpy(&off, b.data() + info_of(b, "b", 1) + 12, 8);
  EXPECT_EQ(off, 32u);
  std::memcpy(&off, b.data() + info_of(b, "c", 1) + 12, 8);
  EXPECT_EQ(off, 64u);
  // Data section: every tensor padded to the alignment, the last one too (as
  // ggml writes it): file size = aligned header + 96, tensor 'a' at its start.
  EXPECT_EQ(b.size() % 32, 0u);
  float a0;
  std::memcpy(&a0, b.data() + b.size() - 96, 4);
  EXPECT_EQ(a0, 1.0f);
  std::filesystem::remove(path);
}

TEST(Gguf, CustomAlignment) {
  Sample s;
  const std::string path = s.write(tmp_path("gguf_align"), 64);
  GgufFile f(path);
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.tensor("b").offset, 64u);
  std::filesystem::remove(path);
}

TEST(Gguf, RejectsEveryTruncation) {
  Sample s;
  const std::string path = s.write(tmp_path("gguf_trunc"));
  const std::string b = bytes_of(path);
  std::filesystem::remove(path);
  // Every prefix that cuts into a tensor's bytes or before is refused with
  // bad_input naming the file; none crashes. (The last 26 bytes are the
  // final tensor's padding, which a reader does not need.)
  for (size_t n = 0; n < b.size() - 26; ++n) {
    Error e = parse_error(b.substr(0, n));
    ASSERT_EQ(e.kind(), ErrorKind::bad_input) << n << ": " << e.what();
    ASSERT_NE(std::string(e.what()).find("bad.gguf"), std::string::npos) << e.what();
  }
  expect_error(b.substr(0, b.size() - 27), "tensor 'c' offset");
}

TEST(Gguf, FileErrorsNameThePath) {
  Sample s;
  const std::string path = s.write(tmp_path("gguf_path"));
  std::string b = bytes_of(path);
  b.resize(b.size() - 30);
  write_file_atomic(path, b);
  try {
    GgufFile f(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

TEST(Gguf, BadMagicAndVersion) {
  Sample s;
  const std::string path = s.write(tmp_path("gguf_magic"));
  std::string b = bytes_of(path);
  std::filesystem::remove(path);
  std::string m = b;
  m[0] = 'X';
  expect_error(m, "magic");
  std::string v = b;
  patch<uint32_t>(v, 4, 99);
  expect_error(v, "version");
}

TEST(Gguf, CountsBeyondTheFile) {
  Sample s;
  const std::string path = s.write(tmp_path("gguf_counts"));
  const std::string b = bytes_of(path);
  std::filesystem::remove(path);
  std::string t = b;
  patch<uint64_t>(t, 8, 1ull << 60);
  expect_error(t, "tensor_count");
  std::string k = b;
  patch<uint64_t>(k, 16, 1ull << 60);
  expect_error(k, "metadata_kv_count");
}

TEST(Gguf, StringLengthBeyondTheFile) {
  Sample s;
  const std::string path = s.write(tmp_path("gguf_str"));
  std::string b = bytes_of(path);
  std::filesystem::remove(path);
  // The value of general.architecture: u64 length right after its type.
  patch<uint64_t>(b, 56, 1ull << 50);
  expect_error(b, "metadata 'general.architecture'");
}

TEST(Gguf, UnknownValueAndArrayTypes) {
  Sample s;
  const std::string path = s.write(tmp_path("gguf_types"));
  const std::string b = bytes_of(path);
  std::filesystem::remove(path);
  std::string v = b;
  patch<uint32_t>(v, 52, 13);
  expect_error(v, "metadata 'general.architecture'");
  // "names": key, then type ARRAY (9), then the element type.
  std::string a = b;
  size_t p = find(a, "names") + 5;
  patch<uint32_t>(a, p + 4, 77);
  expect_error(a, "metadata 'names'");
  // An array count that cannot fit.
  std::string c = b;
  patch<uint64_t>(c, p + 8, 1ull << 40);
  expect_error(c, "metadata 'names'");
}

TEST(Gguf, DuplicateKeyAndTensorName) {
  Sample s;
  const std::string path = s.write(tmp_path("gguf_dup"));
  std::string b = bytes_of(path);
  std::filesystem::remove(path);
  std::string k2 = b;
  // Rename key "x" (1 byte) to "n": now "n" appears twice.
  size_t px = find(k2, std::string("\x01\0\0\0\0\0\0\0x", 9));
  k2[px + 8] = 'n';
  expect_error(k2, "metadata 'n'");
  std::string t = b;
  size_t pb = info_of(t, "b", 1);
  t[pb - 4 - 1] = 'c';  // tensor "b" renamed "c": duplicate of the next one
  expect_error(t, "tensor 'c'");
}

TEST(Gguf, UnknownGgmlTypeAndSizeMismatch) {
  Sample s;
  const std::string path = s.write(tmp_path("gguf_ggml"));
  const std::string b = bytes_of(path);
  std::filesystem::remove(path);
  std::string u = b;
  patch<uint32_t>(u, info_of(u, "a", 2) + 16, 4);  // Q4_2: removed from ggml
  expect_error(u, "tensor 'a' type");
  // F32 -> F64 doubles the size: 'a' now overlaps 'b'.
  std::string w = b;
  patch<uint32_t>(w, info_of(w, "a", 2) + 16, 28);
  expect_error(w, "tensor 'b' offset");
  // Q8_0 needs rows that are multiples of 32.
  std::string q = b;
  patch<uint32_t>(q, info_of(q, "a", 2) + 16, 8);
  expect_error(q, "tensor 'a' dims");
  // A dimension changed: 'c' [3] -> [1000] runs past the data.
  std::string d = b;
  patch<uint64_t>(d, info_of(d, "c", 1), 1000);
  expect_error(d, "tensor 'c' offset");
  // n_dims out of range.
  std::string n = b;
  patch<uint32_t>(n, info_of(n, "a", 2) - 4, 9);
  expect_error(n, "tensor 'a' n_dims");
}

TEST(Gguf, BadOffsets) {
  Sample s;
  const std::string path = s.write(tmp_path("gguf_off"));
  const std::string b = bytes_of(path);
  std::filesystem::remove(path);
  std::string m = b;
  patch<uint64_t>(m, info_of(m, "b", 1) + 12, 33);
  expect_error(m, "tensor 'b' offset");
  std::string g = b;
  patch<uint64_t>(g, info_of(g, "b", 1) + 12, 64);  // a gap / overlap with 'c'
  expect_error(g, "tensor 'b' offset");
  std::string o = b;
  patch<uint64_t>(o, info_of(o, "c", 1) + 12, 1ull << 62);
  expect_error(o, "tensor 'c' offset");
}

TEST(Gguf, BadAlignmentKey) {
  GgufWriter w;
  w.set("general.alignment", GgufValue::of_u32(48));
  const std::string path = tmp_path("gguf_badalign");
  w.write(path);
  const std::string b = bytes_of(path);
  std::filesystem::remove(path);
  expect_error(b, "general.alignment");
}

TEST(Gguf, TypedGettersNameTheKey) {
  Sample s;
  const std::string path = s.write(tmp_path("gguf_get"));
  GgufFile f(path);
  try {
    f.get_str("n");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("metadata 'n'"), std::string::npos) << e.what();
  }
  try {
    f.get_uint("missing.key");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.key"), std::string::npos) << e.what();
  }
  EXPECT_THROW(f.tensor("nope"), Error);
  std::filesystem::remove(path);
}

TEST(Gguf, HalfConversionRoundsToNearestEven) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // rounds up past the max: inf
  EXPECT_EQ(f32_to_f16(1e-8f), 0);
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie -> even
  EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(NAN))));
  // Every half survives half -> float -> half.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;  // NaNs
    ASSERT_EQ(f32_to_f16(f16_to_f32(uint16_t(h))), h) << std::hex << h;
  }
}

}  // namespace
}  // namespace shog
