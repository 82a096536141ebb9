#include "core/tensor.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace shog {

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

static size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

// Blocks of 4 MB and more (weights, the KV pool, optimizer state) lie in
// 2 MB aligned memory offered to the kernel as transparent huge pages
// (Debian's default THP mode is "madvise": nothing gets them unasked). A
// decode step streams every weight once: with 4 KB pages that is a TLB miss
// every 4 KB over ~250 MB for d12 in bf16; with 2 MB pages the whole model
// fits the TLB (d12 bf16, 16 rows: 894 against 847 tok/s, medians of six
// alternated runs). The block starts one cache line into its first page, as
// a large aligned_alloc's did: commit 20e1b1a measured page-aligned starts of
// every large tensor 25-45% slower in d12 decode (4 KiB aliasing between
// the streams a step reads and writes); here, 4 alternations, the offset was
// level or ahead (prefill 1692-1777 against 1578-1769 tok/s). Rounding up to
// whole huge pages costs at most 2 MB per such block. Where THP is off,
// madvise fails and nothing changes.
static constexpr size_t kHugePage = size_t(2) << 20, kLargeBlock = 2 * kHugePage, kLargeOffset = 64;

AlignedBlock::AlignedBlock(size_t n) : bytes(n) {
  if (n >= kLargeBlock) {
    const size_t size = round_up(n + kLargeOffset, kHugePage);
    void* base = std::aligned_alloc(kHugePage, size);
    SHOG_CHECK(base, ErrorKind::io, "", "out of memory allocating {} bytes", n);
    madvise(base, size, MADV_HUGEPAGE);
    offset = kLargeOffset;
    ptr = static_cast<char*>(base) + offset;
  } else {
    ptr = std::aligned_alloc(64, round_up(n ? n : 1, 64));
    SHOG_CHECK(ptr, ErrorKind::io, "", "out of memory allocating {} bytes", n);
  }
  std::memset(ptr, 0, n);
}
AlignedBlock::~AlignedBlock() { std::free(static_cast<char*>(ptr) - offset); }

Tensor Tensor::empty(DType dt, Shape shape, Device dev) {
  SHOG_CHECK(dev.kind == DeviceKind::cpu, ErrorKind::unsupported, "", "device {} has no allocator yet", dev.str());
  Tensor t;
  t.dtype_ = dt;
  t.shape_ = std::move(shape);
  t.device_ = dev;
  t.storage_ = std::make_shared<AlignedBlock>(t.nbytes());
  t.data_ = t.storage_->ptr;
  return t;
}

Tensor Tensor::borrow(void* data, DType dt, Shape shape, Device dev) {
  Tensor t;
  t.dtype_ = dt;
  t.shape_ = std::move(shape);
  t.device_ = dev;
  t.data_ = data;
  return t;
}

Tensor Tensor::view(Shape shape) const {
  SHOG_CHECK(shape_numel(shape) == numel(), ErrorKind::internal, "", "view {} of tensor {} changes element count",
             shape_str(shape), shape_str(shape_));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::slice0(int64_t begin, int64_t end) const {
  SHOG_ASSERT(ndim() >= 1 && 0 <= begin && begin <= end && end <= shape_[0]);
  Tensor t = *this;
  int64_t row = numel() / (shape_[0] ? shape_[0] : 1);
  t.shape_[0] = end - begin;
  t.data_ = static_cast<char*>(data_) + size_t(begin * row) * dtype_size(dtype_);
  return t;
}

size_t Arena::reserve(DType dt, const Shape& shape) {
  SHOG_ASSERT(!block_);
  size_t off = size_;
  size_ += round_up(size_t(shape_numel(shape)) * dtype_size(dt), 64);
  return off;
}

void Arena::commit() { block_ = std::make_unique<AlignedBlock>(size_); }

Tensor Arena::at(size_t offset, DType dt, Shape shape) const {
  SHOG_ASSERT(block_ && offset + size_t(shape_numel(shape)) * dtype_size(dt) <= size_);
  return Tensor::borrow(static_cast<char*>(block_->ptr) + offset, dt, std::move(shape));
}

std::string Device::str() const {
  return kind == DeviceKind::cpu ? std::string("cpu") : "cuda:" + std::to_string(index);
}

Device parse_device(const std::string& s) {
  if (s == "cpu") return Device::cpu();
  if (s == "cuda") return {DeviceKind::cuda, 0};
  if (s.rfind("cuda:", 0) == 0) {
    try {
      return {DeviceKind::cuda, std::stoi(s.substr(5))};
    } catch (...) {
    }
  }
  throw Error(ErrorKind::invalid_argument, "--device", fmt::format("unknown device '{}' (expected cpu, cuda or cuda:N)", s));
}

}  // namespace shog
