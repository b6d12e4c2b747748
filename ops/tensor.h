// Tensor: a shape, a dtype, a device and shared, 64-byte-aligned storage.
//
// Tensors are always contiguous and row-major; transposes are flags on the ops
// that need them (matmul), never strided views. Copying a Tensor copies a
// handle: both refer to the same data, gradient and requires_grad flag.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "ops/check.h"
#include "ops/dtype.h"

namespace graft {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
std::string shape_string(const Shape& shape);

// Owning, aligned allocation on one device.
class Storage {
 public:
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // undefined: no storage, no shape

  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32,
                     Device device = Device::cpu);
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);
  static Tensor scalar(double value, DType dtype = DType::f32);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int ndim() const { return static_cast<int>(shape().size()); }
  int64_t dim(int axis) const;  // negative axes count from the end
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  size_t bytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }

  void* raw_data() const;
  template <class T>
  T* data() const;  // checks that T matches dtype()

  template <class T>
  std::vector<T> to_vector() const;
  double item() const;  // a one-element tensor's value as double

  // Autograd state, shared by every handle to this tensor.
  bool requires_grad() const;
  Tensor& set_requires_grad(bool value = true);
  Tensor grad() const;  // undefined until a backward pass writes it
  bool has_grad() const { return grad().defined(); }
  void set_grad(const Tensor& grad) const;
  void zero_grad() const;  // drops the gradient; the next backward overwrites

  // A new handle to the same storage with another shape (same numel). Records
  // a tape entry when gradients flow, so reshape is differentiable.
  Tensor reshape(const Shape& shape) const;
  // Same storage, no autograd history, requires_grad false.
  Tensor detach() const;
  Tensor clone() const;            // deep copy, no autograd history
  Tensor to(DType dtype) const;    // converted copy, no autograd history
  Tensor to(Device device) const;  // copy on another device, no history
  // Moves this tensor's data (and gradient) to device in place: every handle
  // sees the move. How a model's parameters go to the GPU.
  void move_to(Device device) const;
  // Converts this tensor's data to dtype in place (every handle sees it; the
  // gradient is dropped). How a model's parameters become bf16 on the GPU.
  void convert_to(DType dtype) const;
  // Points this tensor at source's data (same shape, dtype and device), in
  // place: every handle sees it, the autograd state stays this tensor's. How a
  // model replica shares its weights and keeps its own gradients.
  void share_data_of(const Tensor& source) const;
  void copy_from(const Tensor& other) const;  // same shape and dtype, any devices
  void fill(double value) const;

  bool same_storage(const Tensor& other) const;
  const TensorImpl* impl() const { return impl_.get(); }
  std::string describe() const;  // "f32[2, 3] cpu" for messages

 private:
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  size_t offset_bytes = 0;
  Shape shape;
  DType dtype = DType::f32;
  bool requires_grad = false;
  Tensor grad;
};

}  // namespace graft
