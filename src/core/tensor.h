// A Tensor is a typed, shaped view of bytes on a device. It either owns its
// storage (a shared, 64-byte aligned block) or borrows memory that someone
// else keeps alive: a parameter arena, an activation arena, an mmap.
// Kernels do not take Tensors: they take raw pointers and explicit shapes
// (llm.c style); Tensor is how the model and the I/O layers hold memory.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"

namespace shog {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& s);
std::string shape_str(const Shape& s);

// 64-byte aligned heap block (AVX-512 lines; what oneDNN likes).
struct AlignedBlock {
  explicit AlignedBlock(size_t bytes);
  ~AlignedBlock();
  AlignedBlock(const AlignedBlock&) = delete;
  AlignedBlock& operator=(const AlignedBlock&) = delete;
  void* ptr = nullptr;
  size_t bytes = 0;
  size_t offset = 0;  // of ptr into what was allocated (freed from there)
};

class Tensor {
 public:
  Tensor() = default;
  // Owning, zero-initialised.
  static Tensor empty(DType dt, Shape shape, Device dev = Device::cpu());
  static Tensor zeros(DType dt, Shape shape, Device dev = Device::cpu()) { return empty(dt, std::move(shape), dev); }
  // Borrowing: `data` must outlive the tensor and every view of it.
  static Tensor borrow(void* data, DType dt, Shape shape, Device dev = Device::cpu());

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(int i) const { return shape_.at(i < 0 ? shape_.size() + i : i); }
  int ndim() const { return int(shape_.size()); }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype_); }
  Device device() const { return device_; }
  bool owns_storage() const { return bool(storage_); }
  bool defined() const { return data_ != nullptr || numel() == 0; }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <class T> T* data() { return static_cast<T*>(data_); }
  template <class T> const T* data() const { return static_cast<const T*>(data_); }

  // Same bytes, another shape with the same element count.
  Tensor view(Shape shape) const;
  // Rows [begin, end) along dim 0, sharing storage.
  Tensor slice0(int64_t begin, int64_t end) const;

 private:
  DType dtype_ = DType::f32;
  Shape shape_;
  Device device_;
  void* data_ = nullptr;
  std::shared_ptr<AlignedBlock> storage_;  // null when borrowed
};

// A bump allocator for memory whose lifetime is one configuration: all
// activations of a (batch, sequence) shape are carved from one block once,
// and hot loops never allocate. Two passes: `plan` adds sizes, `commit`
// allocates, `take` hands out views in the same order.
class Arena {
 public:
  // Reserve room for a tensor; returns its byte offset.
  size_t reserve(DType dt, const Shape& shape);
  // Allocate the block for everything reserved so far (zeroed).
  void commit();
  // A view at an offset returned by reserve().
  Tensor at(size_t offset, DType dt, Shape shape) const;
  size_t bytes() const { return size_; }
  bool committed() const { return bool(block_); }

 private:
  size_t size_ = 0;
  std::unique_ptr<AlignedBlock> block_;
};

}  // namespace shog
