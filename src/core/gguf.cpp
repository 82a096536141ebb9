#include "core/gguf.h"

#include <cstring>
#include <unordered_set>

#include "core/dtype.h"
#include "core/error.h"

namespace shog {

namespace {

struct GgmlTypeInfo {
  uint32_t id;
  std::string_view name;
  uint32_t block;  // elements per block
  uint32_t bytes;  // bytes per block
};

// Block sizes and byte sizes from ggml's type_traits (ggml.c) and the block
// structs of ggml-common.h.
constexpr GgmlTypeInfo kGgmlTypes[] = {
    {0, "F32", 1, 4},        {1, "F16", 1, 2},         {2, "Q4_0", 32, 18},     {3, "Q4_1", 32, 20},
    {6, "Q5_0", 32, 22},     {7, "Q5_1", 32, 24},      {8, "Q8_0", 32, 34},     {9, "Q8_1", 32, 36},
    {10, "Q2_K", 256, 84},   {11, "Q3_K", 256, 110},   {12, "Q4_K", 256, 144},  {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210},  {15, "Q8_K", 256, 292},   {16, "IQ2_XXS", 256, 66}, {17, "IQ2_XS", 256, 74},
    {18, "IQ3_XXS", 256, 98}, {19, "IQ1_S", 256, 50},  {20, "IQ4_NL", 32, 18},  {21, "IQ3_S", 256, 110},
    {22, "IQ2_S", 256, 82},  {23, "IQ4_XS", 256, 136}, {24, "I8", 1, 1},        {25, "I16", 1, 2},
    {26, "I32", 1, 4},       {27, "I64", 1, 8},        {28, "F64", 1, 8},       {29, "IQ1_M", 256, 56},
    {30, "BF16", 1, 2},      {34, "TQ1_0", 256, 54},   {35, "TQ2_0", 256, 66},  {39, "MXFP4", 32, 17},
};

const GgmlTypeInfo* find_ggml(uint32_t id) {
  for (const auto& t : kGgmlTypes)
    if (t.id == id) return &t;
  return nullptr;
}

// A GGUF file this large in one header field is corrupt, not a model: the
// caps keep a hostile count from turning into a huge allocation or a loop
// that runs long before the bounds checks catch it.
constexpr uint64_t kMaxDims = 4;  // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 2;

// Reads little-endian values from [p, end), every read bounds-checked, every
// error naming the file and the field being read.
class Cursor {
 public:
  Cursor(const uint8_t* base, size_t size, const std::string& file) : base_(base), size_(size), file_(file) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const std::string& file() const { return file_; }

  void need(uint64_t n, const std::string& field) const {
    SHOG_CHECK(n <= remaining(), ErrorKind::bad_input, file_ + ": " + field,
               "needs {} bytes at offset {} but the file ends at {}", n, pos_, size_);
  }
  template <class T>
  T read(const std::string& field) {
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, base_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string read_string(const std::string& field) {
    const uint64_t n = read<uint64_t>(field + " (string length)");
    SHOG_CHECK(n <= remaining(), ErrorKind::bad_input, file_ + ": " + field,
               "string length {} at offset {} runs past the end of the {}-byte file", n, pos_ - 8, size_);
    std::string s(reinterpret_cast<const char*>(base_ + pos_), size_t(n));
    pos_ += size_t(n);
    return s;
  }

 private:
  const uint8_t* base_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& file_;
};

// Minimum encoded size of one value of type t (for checking an array count
// against the bytes left before allocating for it).
uint64_t min_value_size(GgufType t) {
  switch (t) {
    case GgufType::u8: case GgufType::i8: case GgufType::boolean: return 1;
    case GgufType::u16: case GgufType::i16: return 2;
    case GgufType::u32: case GgufType::i32: case GgufType::f32: return 4;
    case GgufType::u64: case GgufType::i64: case GgufType::f64: case GgufType::string: return 8;
    case GgufType::array: return 12;
  }
  return 1;
}

bool valid_gguf_type(uint32_t t) { return t <= uint32_t(GgufType::f64); }

GgufValue read_value(Cursor& c, GgufType t, const std::string& field, int depth) {
  GgufValue v;
  v.type = t;
  switch (t) {
    case GgufType::u8: v.u = c.read<uint8_t>(field); break;
    case GgufType::i8: v.i = c.read<int8_t>(field); break;
    case GgufType::u16: v.u = c.read<uint16_t>(field); break;
    case GgufType::i16: v.i = c.read<int16_t>(field); break;
    case GgufType::u32: v.u = c.read<uint32_t>(field); break;
    case GgufType::i32: v.i = c.read<int32_t>(field); break;
    case GgufType::u64: v.u = c.read<uint64_t>(field); break;
    case GgufType::i64: v.i = c.read<int64_t>(field); break;
    case GgufType::f32: v.f = c.read<float>(field); break;
    case GgufType::f64: v.f = c.read<double>(field); break;
    case GgufType::boolean: {
      const uint8_t b = c.read<uint8_t>(field);
      SHOG_CHECK(b <= 1, ErrorKind::bad_input, c.file() + ": " + field, "bool value is {}, not 0 or 1", b);
      v.u = b;
      break;
    }
    case GgufType::string: v.s = c.read_string(field); break;
    case GgufType::array: {
      SHOG_CHECK(depth < kMaxArrayDepth, ErrorKind::bad_input, c.file() + ": " + field,
                 "arrays nested deeper than {}", kMaxArrayDepth);
      const uint32_t et = c.read<uint32_t>(field + " (array type)");
      SHOG_CHECK(valid_gguf_type(et), ErrorKind::bad_input, c.file() + ": " + field, "unknown array element type {}",
                 et);
      v.elem_type = GgufType(et);
      const uint64_t n = c.read<uint64_t>(field + " (array length)");
      SHOG_CHECK(n <= c.remaining() / min_value_size(v.elem_type), ErrorKind::bad_input, c.file() + ": " + field,
                 "array of {} {} values cannot fit in the {} bytes left", n, gguf_type_name(v.elem_type),
                 c.remaining());
      v.arr.reserve(size_t(n));
      for (uint64_t k = 0; k < n; ++k) v.arr.push_back(read_value(c, v.elem_type, field, depth + 1));
      break;
    }
  }
  return v;
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void put_u64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }
void put_str(std::string& out, std::string_view s) {
  put_u64(out, s.size());
  out.append(s);
}

void put_value(std::string& out, const GgufValue& v) {
  auto raw = [&](auto x) { out.append(reinterpret_cast<const char*>(&x), sizeof x); };
  switch (v.type) {
    case GgufType::u8: raw(uint8_t(v.u)); break;
    case GgufType::i8: raw(int8_t(v.i)); break;
    case GgufType::u16: raw(uint16_t(v.u)); break;
    case GgufType::i16: raw(int16_t(v.i)); break;
    case GgufType::u32: raw(uint32_t(v.u)); break;
    case GgufType::i32: raw(int32_t(v.i)); break;
    case GgufType::u64: raw(uint64_t(v.u)); break;
    case GgufType::i64: raw(int64_t(v.i)); break;
    case GgufType::f32: raw(float(v.f)); break;
    case GgufType::f64: raw(double(v.f)); break;
    case GgufType::boolean: raw(uint8_t(v.u ? 1 : 0)); break;
    case GgufType::string: put_str(out, v.s); break;
    case GgufType::array:
      put_u32(out, uint32_t(v.elem_type));
      put_u64(out, v.arr.size());
      for (const auto& e : v.arr) {
        SHOG_ASSERT(e.type == v.elem_type);
        put_value(out, e);
      }
      break;
  }
}

}  // namespace

std::string_view gguf_type_name(GgufType t) {
  static constexpr std::string_view names[] = {"UINT8", "INT8",  "UINT16", "INT16",  "UINT32", "INT32", "FLOAT32",
                                               "BOOL",  "STRING", "ARRAY", "UINT64", "INT64",  "FLOAT64"};
  return uint32_t(t) < std::size(names) ? names[uint32_t(t)] : "?";
}

std::optional<std::string_view> ggml_type_name(uint32_t id) {
  const auto* t = find_ggml(id);
  return t ? std::optional(t->name) : std::nullopt;
}

std::optional<uint64_t> ggml_row_bytes(GgmlType type, uint64_t n) {
  const auto* t = find_ggml(uint32_t(type));
  if (!t || n % t->block) return std::nullopt;
  return n / t->block * t->bytes;
}

GgufValue GgufValue::of_u32(uint32_t x) { GgufValue v; v.type = GgufType::u32; v.u = x; return v; }
GgufValue GgufValue::of_i32(int32_t x) { GgufValue v; v.type = GgufType::i32; v.i = x; return v; }
GgufValue GgufValue::of_u64(uint64_t x) { GgufValue v; v.type = GgufType::u64; v.u = x; return v; }
GgufValue GgufValue::of_f32(float x) { GgufValue v; v.type = GgufType::f32; v.f = x; return v; }
GgufValue GgufValue::of_bool(bool x) { GgufValue v; v.type = GgufType::boolean; v.u = x; return v; }
GgufValue GgufValue::of_str(std::string x) { GgufValue v; v.type = GgufType::string; v.s = std::move(x); return v; }
GgufValue GgufValue::of_strs(std::vector<std::string> xs) {
  GgufValue v;
  v.type = GgufType::array;
  v.elem_type = GgufType::string;
  v.arr.reserve(xs.size());
  for (auto& x : xs) v.arr.push_back(of_str(std::move(x)));
  return v;
}
GgufValue GgufValue::of_i32s(const std::vector<int32_t>& xs) {
  GgufValue v;
  v.type = GgufType::array;
  v.elem_type = GgufType::i32;
  for (int32_t x : xs) v.arr.push_back(of_i32(x));
  return v;
}
GgufValue GgufValue::of_f32s(const std::vector<float>& xs) {
  GgufValue v;
  v.type = GgufType::array;
  v.elem_type = GgufType::f32;
  for (float x : xs) v.arr.push_back(of_f32(x));
  return v;
}

GgufFile::GgufFile(const std::string& path) : name_(path), map_(std::make_unique<MappedFile>(path)) {
  parse(map_->data(), map_->size());
}

GgufFile::GgufFile(const uint8_t* data, size_t size, std::string name) : name_(std::move(name)) { parse(data, size); }

void GgufFile::parse(const uint8_t* base, size_t size) {
  Cursor c(base, size, name_);
  c.need(4, "magic");
  SHOG_CHECK(std::memcmp(base, "GGUF", 4) == 0, ErrorKind::bad_input, name_ + ": magic",
             "file does not start with \"GGUF\" (not a GGUF file)");
  c.read<uint32_t>("magic");
  version_ = c.read<uint32_t>("version");
  // v2 differs from v3 only in byte order marking; v1 used u32 counts.
  SHOG_CHECK(version_ == 2 || version_ == 3, ErrorKind::bad_input, name_ + ": version",
             "version {} is not supported (2 or 3)", version_);
  const uint64_t n_tensors = c.read<uint64_t>("tensor_count");
  const uint64_t n_kv = c.read<uint64_t>("metadata_kv_count");
  // Each KV takes at least 8 (key length) + 4 (type) + 1 bytes, each tensor
  // info 8 + 4 + 4 + 8: counts beyond what the file can hold are corrupt.
  SHOG_CHECK(n_kv <= c.remaining() / 13, ErrorKind::bad_input, name_ + ": metadata_kv_count",
             "{} key-value pairs cannot fit in a {}-byte file", n_kv, size);
  SHOG_CHECK(n_tensors <= c.remaining() / 24, ErrorKind::bad_input, name_ + ": tensor_count",
             "{} tensors cannot fit in a {}-byte file", n_tensors, size);

  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key = c.read_string(fmt::format("metadata key {}", k));
    const std::string field = "metadata '" + key + "'";
    SHOG_CHECK(!key.empty(), ErrorKind::bad_input, name_ + ": metadata key " + std::to_string(k), "empty key");
    SHOG_CHECK(!kv_index_.count(key), ErrorKind::bad_input, name_ + ": " + field, "key appears twice");
    const uint32_t t = c.read<uint32_t>(field + " (type)");
    SHOG_CHECK(valid_gguf_type(t), ErrorKind::bad_input, name_ + ": " + field, "unknown value type {}", t);
    GgufValue v = read_value(c, GgufType(t), field, 0);
    kv_index_[key] = kvs_.size();
    kvs_.emplace_back(std::move(key), std::move(v));
  }
  if (has("general.alignment")) {
    const GgufValue& a = get("general.alignment");
    SHOG_CHECK(a.type == GgufType::u32, ErrorKind::bad_input, name_ + ": metadata 'general.alignment'",
               "must be UINT32, got {}", gguf_type_name(a.type));
    SHOG_CHECK(a.u != 0 && (a.u & (a.u - 1)) == 0, ErrorKind::bad_input, name_ + ": metadata 'general.alignment'",
               "{} is not a power of two", a.u);
    alignment_ = uint32_t(a.u);
  }

  for (uint64_t k = 0; k < n_tensors; ++k) {
    GgufTensorInfo ti;
    ti.name = c.read_string(fmt::format("tensor info {} name", k));
    const std::string field = "tensor '" + ti.name + "'";
    SHOG_CHECK(!ti.name.empty(), ErrorKind::bad_input, name_ + ": tensor info " + std::to_string(k), "empty name");
    SHOG_CHECK(!tensor_index_.count(ti.name), ErrorKind::bad_input, name_ + ": " + field, "name appears twice");
    const uint32_t nd = c.read<uint32_t>(field + " n_dims");
    SHOG_CHECK(nd >= 1 && nd <= kMaxDims, ErrorKind::bad_input, name_ + ": " + field + " n_dims",
               "{} dimensions (1 to {} allowed)", nd, kMaxDims);
    std::vector<uint64_t> dims(nd);
    uint64_t numel = 1;
    for (uint32_t d = 0; d < nd; ++d) {
      dims[d] = c.read<uint64_t>(field + " dims");
      SHOG_CHECK(dims[d] <= uint64_t(INT64_MAX) && !__builtin_mul_overflow(numel, dims[d], &numel) &&
                     numel <= uint64_t(INT64_MAX),
                 ErrorKind::bad_input, name_ + ": " + field + " dims", "element count overflows");
    }
    const uint32_t type = c.read<uint32_t>(field + " type");
    const auto* info = find_ggml(type);
    SHOG_CHECK(info, ErrorKind::bad_input, name_ + ": " + field + " type", "unknown ggml type {}", type);
    ti.type = GgmlType(type);
    SHOG_CHECK(dims[0] % info->block == 0, ErrorKind::bad_input, name_ + ": " + field + " dims",
               "row length {} is not a multiple of the {} block size {}", dims[0], info->name, info->block);
    uint64_t nbytes = 0;
    SHOG_CHECK(!__builtin_mul_overflow(numel / info->block, uint64_t(info->bytes), &nbytes), ErrorKind::bad_input,
               name_ + ": " + field + " dims", "byte size overflows");
    ti.nbytes = nbytes;
    ti.offset = c.read<uint64_t>(field + " offset");
    for (uint32_t d = nd; d-- > 0;) ti.shape.push_back(int64_t(dims[d]));
    tensor_index_[ti.name] = tensors_.size();
    tensors_.push_back(std::move(ti));
  }

  // The data section starts at the next multiple of the alignment.
  const uint64_t data_start = align_up(c.pos(), alignment_);
  SHOG_CHECK(tensors_.empty() || data_start <= size, ErrorKind::bad_input, name_ + ": data section",
             "starts at {} (header end {} aligned to {}) beyond the {}-byte file", data_start, c.pos(), alignment_,
             size);
  const uint64_t data_size = tensors_.empty() ? 0 : size - data_start;
  uint64_t expected = 0;
  for (auto& ti : tensors_) {
    const std::string field = name_ + ": tensor '" + ti.name + "' offset";
    SHOG_CHECK(ti.offset % alignment_ == 0, ErrorKind::bad_input, field, "{} is not a multiple of the alignment {}",
               ti.offset, alignment_);
    SHOG_CHECK(ti.offset == expected, ErrorKind::bad_input, field,
               "{} but the tensors before it end at {} (tensors must be contiguous, in order, each aligned)",
               ti.offset, expected);
    SHOG_CHECK(ti.nbytes <= data_size && ti.offset <= data_size - ti.nbytes, ErrorKind::bad_input, field,
               "[{}, {}+{}) runs past the {}-byte data section (file truncated?)", ti.offset, ti.offset, ti.nbytes,
               data_size);
    ti.data = base + data_start + ti.offset;
    expected = align_up(ti.offset + ti.nbytes, alignment_);
  }
}

bool GgufFile::has(std::string_view key) const { return kv_index_.count(std::string(key)) > 0; }

const GgufValue& GgufFile::get(std::string_view key) const {
  auto it = kv_index_.find(std::string(key));
  SHOG_CHECK(it != kv_index_.end(), ErrorKind::bad_input, fmt::format("{}: metadata '{}'", name_, key),
             "missing key");
  return kvs_[it->second].second;
}

uint64_t GgufFile::get_uint(std::string_view key) const {
  const GgufValue& v = get(key);
  switch (v.type) {
    case GgufType::u8: case GgufType::u16: case GgufType::u32: case GgufType::u64: return v.u;
    case GgufType::i8: case GgufType::i16: case GgufType::i32: case GgufType::i64:
      if (v.i >= 0) return uint64_t(v.i);
      throw Error(ErrorKind::bad_input, fmt::format("{}: metadata '{}'", name_, key),
                  fmt::format("must be non-negative, got {}", v.i));
    default:
      throw Error(ErrorKind::bad_input, fmt::format("{}: metadata '{}'", name_, key),
                  fmt::format("must be an integer, got {}", gguf_type_name(v.type)));
  }
}

double GgufFile::get_float(std::string_view key) const {
  const GgufValue& v = get(key);
  SHOG_CHECK(v.type == GgufType::f32 || v.type == GgufType::f64, ErrorKind::bad_input,
             fmt::format("{}: metadata '{}'", name_, key), "must be FLOAT32 or FLOAT64, got {}",
             gguf_type_name(v.type));
  return v.f;
}

bool GgufFile::get_bool(std::string_view key) const {
  const GgufValue& v = get(key);
  SHOG_CHECK(v.type == GgufType::boolean, ErrorKind::bad_input, fmt::format("{}: metadata '{}'", name_, key),
             "must be BOOL, got {}", gguf_type_name(v.type));
  return v.u != 0;
}

const std::string& GgufFile::get_str(std::string_view key) const {
  const GgufValue& v = get(key);
  SHOG_CHECK(v.type == GgufType::string, ErrorKind::bad_input, fmt::format("{}: metadata '{}'", name_, key),
             "must be STRING, got {}", gguf_type_name(v.type));
  return v.s;
}

std::vector<std::string> GgufFile::get_strs(std::string_view key) const {
  const GgufValue& v = get(key);
  SHOG_CHECK(v.type == GgufType::array && v.elem_type == GgufType::string, ErrorKind::bad_input,
             fmt::format("{}: metadata '{}'", name_, key), "must be an ARRAY of STRING");
  std::vector<std::string> out;
  out.reserve(v.arr.size());
  for (const auto& e : v.arr) out.push_back(e.s);
  return out;
}

std::vector<int64_t> GgufFile::get_ints(std::string_view key) const {
  const GgufValue& v = get(key);
  const bool ok = v.type == GgufType::array &&
                  (v.elem_type == GgufType::i8 || v.elem_type == GgufType::i16 || v.elem_type == GgufType::i32 ||
                   v.elem_type == GgufType::i64 || v.elem_type == GgufType::u8 || v.elem_type == GgufType::u16 ||
                   v.elem_type == GgufType::u32);
  SHOG_CHECK(ok, ErrorKind::bad_input, fmt::format("{}: metadata '{}'", name_, key), "must be an ARRAY of integers");
  std::vector<int64_t> out;
  out.reserve(v.arr.size());
  for (const auto& e : v.arr) out.push_back(e.type == GgufType::u8 || e.type == GgufType::u16 || e.type == GgufType::u32 ? int64_t(e.u) : e.i);
  return out;
}

bool GgufFile::has_tensor(std::string_view name) const { return tensor_index_.count(std::string(name)) > 0; }

const GgufTensorInfo& GgufFile::tensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  SHOG_CHECK(it != tensor_index_.end(), ErrorKind::bad_input, fmt::format("{}: tensor '{}'", name_, name),
             "no such tensor in the file");
  return tensors_[it->second];
}

void GgufFile::copy_f32(std::string_view name, float* dst, int64_t n) const {
  const auto& t = tensor(name);
  const std::string where = fmt::format("{}: tensor '{}'", name_, name);
  SHOG_CHECK(n == t.numel(), ErrorKind::invalid_argument, where, "destination holds {} elements, tensor {} has {}", n,
             shape_str(t.shape), t.numel());
  const uint8_t* src = t.data;
  switch (t.type) {
    case GgmlType::f32: std::memcpy(dst, src, size_t(n) * 4); break;
    case GgmlType::f16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = f16_to_f32(h);
      }
      break;
    case GgmlType::bf16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t b;
        std::memcpy(&b, src + 2 * i, 2);
        dst[i] = bf16_to_f32(bf16{b});
      }
      break;
    default:
      throw Error(ErrorKind::unsupported, where + " type",
                  fmt::format("{} cannot be converted to f32 (F32, F16 and BF16 only; quantized models are not "
                              "imported)",
                              *ggml_type_name(uint32_t(t.type))));
  }
}

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  SHOG_ASSERT(alignment != 0 && (alignment & (alignment - 1)) == 0);
  if (alignment != 32) set("general.alignment", GgufValue::of_u32(alignment));
}

void GgufWriter::set(std::string key, GgufValue v) {
  for (auto& kv : kvs_)
    if (kv.first == key) {
      kv.second = std::move(v);
      return;
    }
  kvs_.emplace_back(std::move(key), std::move(v));
}

void GgufWriter::add_tensor(std::string name, Shape shape, GgmlType type, const void* data, uint64_t nbytes) {
  const std::string where = "gguf tensor '" + name + "'";
  for (const auto& t : tensors_) SHOG_CHECK(t.name != name, ErrorKind::invalid_argument, where, "added twice");
  SHOG_CHECK(!shape.empty() && shape.size() <= kMaxDims, ErrorKind::invalid_argument, where,
             "shape {} must have 1 to {} dimensions", shape_str(shape), kMaxDims);
  const auto row = ggml_row_bytes(type, uint64_t(shape.back()));
  SHOG_CHECK(row.has_value(), ErrorKind::invalid_argument, where, "row length {} is not a whole number of blocks",
             shape.back());
  const uint64_t expect = *row * uint64_t(shape_numel(shape) / std::max<int64_t>(shape.back(), 1));
  SHOG_CHECK(nbytes == expect || shape.back() == 0, ErrorKind::invalid_argument, where,
             "{} bytes given, shape {} needs {}", nbytes, shape_str(shape), expect);
  tensors_.push_back({std::move(name), std::move(shape), type, data, nbytes});
}

void GgufWriter::write(const std::string& path) const {
  std::string h;
  h.append("GGUF", 4);
  put_u32(h, 3);
  put_u64(h, tensors_.size());
  put_u64(h, kvs_.size());
  for (const auto& [k, v] : kvs_) {
    put_str(h, k);
    put_u32(h, uint32_t(v.type));
    put_value(h, v);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put_str(h, t.name);
    put_u32(h, uint32_t(t.shape.size()));
    for (size_t d = t.shape.size(); d-- > 0;) put_u64(h, uint64_t(t.shape[d]));
    put_u32(h, uint32_t(t.type));
    put_u64(h, offset);
    offset = align_up(offset + t.nbytes, alignment_);
  }
  h.append(align_up(h.size(), alignment_) - h.size(), '\0');

  AtomicFile f(path);
  f.write(h);
  static const char zeros[64] = {};
  for (const auto& t : tensors_) {
    if (t.nbytes) f.write(t.data, t.nbytes);
    uint64_t pad = align_up(t.nbytes, alignment_) - t.nbytes;
    while (pad) {
      const uint64_t k = std::min<uint64_t>(pad, sizeof zeros);
      f.write(zeros, k);
      pad -= k;
    }
  }
  f.commit();
}


}  // namespace shog
