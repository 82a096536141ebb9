#include "core/safetensors.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace shog {

namespace {

using ordered_json = nlohmann::ordered_json;

struct DTypeInfo {
  StDType t;
  std::string_view name;
  size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {StDType::f64, "F64", 8},  {StDType::f32, "F32", 4},         {StDType::f16, "F16", 2},
    {StDType::bf16, "BF16", 2}, {StDType::i64, "I64", 8},        {StDType::i32, "I32", 4},
    {StDType::i16, "I16", 2},  {StDType::i8, "I8", 1},           {StDType::u64, "U64", 8},
    {StDType::u32, "U32", 4},  {StDType::u16, "U16", 2},         {StDType::u8, "U8", 1},
    {StDType::boolean, "BOOL", 1}, {StDType::f8_e4m3, "F8_E4M3", 1}, {StDType::f8_e5m2, "F8_E5M2", 1},
};

const DTypeInfo* find_dtype(std::string_view s) {
  for (const auto& d : kDTypes)
    if (d.name == s) return &d;
  return nullptr;
}

// The reference reader refuses headers over 100 MB; a length beyond that is a
// corrupt or hostile file, not a model.
constexpr uint64_t kMaxHeader = 100'000'000;


std::string tensor_where(const std::string& path, std::string_view name) {
  return fmt::format("{}: tensor '{}'", path, name);
}

}  // namespace

std::string_view st_dtype_name(StDType t) {
  for (const auto& d : kDTypes)
    if (d.t == t) return d.name;
  return "?";
}

size_t st_dtype_size(StDType t) {
  for (const auto& d : kDTypes)
    if (d.t == t) return d.size;
  SHOG_ASSERT(false);
}

StDType to_st_dtype(DType t) {
  switch (t) {
    case DType::f32: return StDType::f32;
    case DType::bf16: return StDType::bf16;
    case DType::i32: return StDType::i32;
  }
  SHOG_ASSERT(false);
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path), map_(std::make_unique<MappedFile>(path)) {
  parse(map_->data(), map_->size());
}

SafetensorsFile::SafetensorsFile(const uint8_t* data, size_t size, std::string name) : path_(std::move(name)) {
  parse(data, size);
}

void SafetensorsFile::parse(const uint8_t* base, uint64_t fsize) {
  base_ = base;
  const std::string& path = path_;
  const std::string hw = path + ": header";
  SHOG_CHECK(fsize >= 8, ErrorKind::bad_input, hw, "file is {} bytes, too short for the 8-byte header length", fsize);
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | base[i];
  SHOG_CHECK(hlen <= kMaxHeader, ErrorKind::bad_input, hw, "header length {} exceeds the {} byte limit", hlen,
             kMaxHeader);
  SHOG_CHECK(hlen <= fsize - 8, ErrorKind::bad_input, hw, "header length {} runs past the end of the {}-byte file",
             hlen, fsize);
  const uint8_t* data = base + 8 + hlen;
  const uint64_t data_size = fsize - 8 - hlen;

  // nlohmann keeps one of two duplicate keys silently; the callback sees
  // every top-level key as it is parsed, so duplicates can be reported.
  std::unordered_set<std::string> seen;
  std::string duplicate;
  auto cb = [&](int depth, ordered_json::parse_event_t ev, ordered_json& parsed) {
    if (depth == 1 && ev == ordered_json::parse_event_t::key && duplicate.empty()) {
      auto k = parsed.get<std::string>();
      if (!seen.insert(k).second) duplicate = k;
    }
    return true;
  };
  ordered_json header;
  try {
    header = ordered_json::parse(base + 8, base + 8 + hlen, cb);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::bad_input, hw, fmt::format("invalid JSON: {}", e.what()));
  }
  SHOG_CHECK(header.is_object(), ErrorKind::bad_input, hw, "JSON header is a {}, not an object", header.type_name());
  SHOG_CHECK(duplicate.empty(), ErrorKind::bad_input, tensor_where(path, duplicate), "name appears twice in header");

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const ordered_json& v = it.value();
    if (name == "__metadata__") {
      SHOG_CHECK(v.is_object(), ErrorKind::bad_input, path + ": __metadata__", "must be an object, got {}",
                 v.type_name());
      for (auto m = v.begin(); m != v.end(); ++m) {
        SHOG_CHECK(m.value().is_string(), ErrorKind::bad_input, fmt::format("{}: __metadata__.{}", path, m.key()),
                   "value must be a string, got {}", m.value().type_name());
        metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string w = tensor_where(path, name);
    SHOG_CHECK(v.is_object(), ErrorKind::bad_input, w, "entry must be an object, got {}", v.type_name());
    SHOG_CHECK(v.contains("dtype") && v["dtype"].is_string(), ErrorKind::bad_input, w + ": dtype",
               "missing or not a string");
    SHOG_CHECK(v.contains("shape") && v["shape"].is_array(), ErrorKind::bad_input, w + ": shape",
               "missing or not an array");
    SHOG_CHECK(v.contains("data_offsets") && v["data_offsets"].is_array() && v["data_offsets"].size() == 2,
               ErrorKind::bad_input, w + ": data_offsets", "missing or not an array of two offsets");

    SafetensorsEntry e;
    e.name = name;
    const auto dts = v["dtype"].get<std::string>();
    const DTypeInfo* dt = find_dtype(dts);
    SHOG_CHECK(dt, ErrorKind::bad_input, w + ": dtype", "unknown dtype \"{}\"", dts);
    e.dtype = dt->t;

    uint64_t numel = 1;
    for (const auto& d : v["shape"]) {
      SHOG_CHECK(d.is_number_unsigned(), ErrorKind::bad_input, w + ": shape", "dimension {} is not a non-negative integer",
                 d.dump());
      const uint64_t dim = d.get<uint64_t>();
      SHOG_CHECK(dim <= uint64_t(INT64_MAX) && !__builtin_mul_overflow(numel, dim, &numel), ErrorKind::bad_input,
                 w + ": shape", "element count overflows");
      e.shape.push_back(int64_t(dim));
    }
    uint64_t nbytes = 0;
    SHOG_CHECK(!__builtin_mul_overflow(numel, uint64_t(dt->size), &nbytes), ErrorKind::bad_input, w + ": shape",
               "byte size overflows");

    const auto& off = v["data_offsets"];
    SHOG_CHECK(off[0].is_number_unsigned() && off[1].is_number_unsigned(), ErrorKind::bad_input,
               w + ": data_offsets", "offsets must be non-negative integers, got {}", off.dump());
    e.begin = off[0].get<uint64_t>();
    e.end = off[1].get<uint64_t>();
    SHOG_CHECK(e.begin <= e.end, ErrorKind::bad_input, w + ": data_offsets", "begin {} is after end {}", e.begin,
               e.end);
    SHOG_CHECK(e.end <= data_size, ErrorKind::bad_input, w + ": data_offsets",
               "end {} is beyond the {}-byte data section", e.end, data_size);
    SHOG_CHECK(e.end - e.begin == nbytes, ErrorKind::bad_input, w + ": data_offsets",
               "range holds {} bytes but {} {} needs {}", e.end - e.begin, dts, shape_str(e.shape), nbytes);
    e.data = data + e.begin;
    index_[name] = entries_.size();
    entries_.push_back(std::move(e));
  }

  // The tensors must tile [0, data_size) exactly, as the reference requires.
  std::vector<size_t> order(entries_.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::pair(entries_[a].begin, entries_[a].end) < std::pair(entries_[b].begin, entries_[b].end);
  });
  uint64_t pos = 0;
  const SafetensorsEntry* prev = nullptr;
  for (size_t i : order) {
    const auto& e = entries_[i];
    SHOG_CHECK(e.begin >= pos, ErrorKind::bad_input, tensor_where(path, e.name) + ": data_offsets",
               "[{}, {}) overlaps tensor '{}' [{}, {})", e.begin, e.end, prev->name, prev->begin, prev->end);
    SHOG_CHECK(e.begin == pos, ErrorKind::bad_input, tensor_where(path, e.name) + ": data_offsets",
               "gap of {} bytes before it (begins at {}, previous data ends at {})", e.begin - pos, e.begin, pos);
    pos = e.end;
    prev = &e;
  }
  SHOG_CHECK(pos == data_size, ErrorKind::bad_input, path + ": data section",
             "{} trailing bytes after the last tensor (tensors end at {}, data section is {} bytes)", data_size - pos,
             pos, data_size);
}

bool SafetensorsFile::contains(std::string_view name) const { return index_.count(std::string(name)) > 0; }

const SafetensorsEntry& SafetensorsFile::at(std::string_view name) const {
  auto it = index_.find(std::string(name));
  SHOG_CHECK(it != index_.end(), ErrorKind::bad_input, tensor_where(path(), name), "no such tensor in the file");
  return entries_[it->second];
}

Tensor SafetensorsFile::view(std::string_view name) const {
  const auto& e = at(name);
  DType dt;
  switch (e.dtype) {
    case StDType::f32: dt = DType::f32; break;
    case StDType::bf16: dt = DType::bf16; break;
    case StDType::i32: dt = DType::i32; break;
    default:
      throw Error(ErrorKind::unsupported, tensor_where(path(), name),
                  fmt::format("dtype {} cannot be viewed (f32, bf16, i32 only)", st_dtype_name(e.dtype)));
  }
  SHOG_CHECK(reinterpret_cast<uintptr_t>(e.data) % dtype_size(dt) == 0, ErrorKind::unsupported,
             tensor_where(path(), name), "data at file offset {} is not {}-byte aligned; copy it instead",
             e.data - base_, dtype_size(dt));
  return Tensor::borrow(const_cast<uint8_t*>(e.data), dt, e.shape);
}

void SafetensorsFile::copy_f32(std::string_view name, float* dst, int64_t n) const {
  const auto& e = at(name);
  SHOG_CHECK(n == e.numel(), ErrorKind::invalid_argument, tensor_where(path(), name),
             "destination holds {} elements, tensor {} has {}", n, shape_str(e.shape), e.numel());
  const uint8_t* src = e.data;
  switch (e.dtype) {
    case StDType::f32: std::memcpy(dst, src, size_t(n) * 4); break;
    case StDType::bf16:
      for (int64_t i = 0; i < n; i++) {
        uint16_t b;
        std::memcpy(&b, src + 2 * i, 2);
        dst[i] = bf16_to_f32(bf16{b});
      }
      break;
    case StDType::f16:
      for (int64_t i = 0; i < n; i++) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = f16_to_f32(h);
      }
      break;
    default:
      throw Error(ErrorKind::unsupported, tensor_where(path(), name),
                  fmt::format("dtype {} cannot be converted to f32 (F32, BF16, F16 only)", st_dtype_name(e.dtype)));
  }
}

std::vector<float> SafetensorsFile::to_f32(std::string_view name) const {
  std::vector<float> out(size_t(at(name).numel()));
  copy_f32(name, out.data(), int64_t(out.size()));
  return out;
}

void write_safetensors(const std::string& path, const std::vector<SafetensorsTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  ordered_json header = ordered_json::object();
  if (!metadata.empty()) {
    ordered_json md = ordered_json::object();
    for (const auto& [k, v] : metadata) md[k] = v;
    header["__metadata__"] = md;
  }
  uint64_t offset = 0;
  std::vector<uint64_t> sizes;
  for (const auto& t : tensors) {
    const std::string w = tensor_where(path, t.name);
    SHOG_CHECK(t.name != "__metadata__", ErrorKind::invalid_argument, w, "name is reserved");
    SHOG_CHECK(!header.contains(t.name), ErrorKind::invalid_argument, w, "name given twice");
    uint64_t numel = 1;
    for (int64_t d : t.shape) {
      SHOG_CHECK(d >= 0, ErrorKind::invalid_argument, w, "negative dimension in shape {}", shape_str(t.shape));
      numel *= uint64_t(d);
    }
    const uint64_t nbytes = numel * st_dtype_size(t.dtype);
    SHOG_CHECK(nbytes == 0 || t.data, ErrorKind::invalid_argument, w, "null data for {} bytes", nbytes);
    header[t.name] = {{"dtype", std::string(st_dtype_name(t.dtype))}, {"shape", t.shape}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    sizes.push_back(nbytes);
  }
  std::string hs = header.dump();
  hs.append((8 - (8 + hs.size()) % 8) % 8, ' ');
  uint8_t len[8];
  for (int i = 0; i < 8; i++) len[i] = uint8_t(uint64_t(hs.size()) >> (8 * i));

  AtomicFile f(path);
  f.write(len, 8);
  f.write(hs);
  for (size_t i = 0; i < tensors.size(); i++)
    if (sizes[i]) f.write(tensors[i].data, sizes[i]);
  f.commit();
}

}  // namespace shog
