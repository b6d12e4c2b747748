#include "ops/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "ops/autograd.h"
#include "ops/cuda/backend.h"
#include "ops/host_memory.h"

namespace graft {

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    GRAFT_CHECK(d >= 0, "negative dimension in shape " << shape_string(shape));
    n *= d;
  }
  return n;
}

std::string shape_string(const Shape& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i)
    out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (device == Device::cuda) {
    data_ = cuda::allocate(bytes);
    return;
  }
  data_ = host_allocate(bytes);
}

Storage::~Storage() {
  if (device_ == Device::cuda) {
    cuda::release(data_, bytes_);
  } else {
    host_release(data_, bytes_);
  }
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  Tensor t;
  t.impl_ = std::make_shared<TensorImpl>();
  t.impl_->shape = shape;
  t.impl_->dtype = dtype;
  t.impl_->storage = std::make_shared<Storage>(
      static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype), device);
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  if (device == Device::cuda) {
    cuda::zero_bytes(t.raw_data(), t.bytes());
  } else {
    std::memset(t.raw_data(), 0, t.bytes());
  }
  return t;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill(value);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype) {
  return full({}, value, dtype);
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  GRAFT_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape),
              values.size() << " values do not fill shape " << shape_string(shape));
  Tensor t = empty(shape, dtype_of<T>());
  std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t;
}

const Shape& Tensor::shape() const {
  GRAFT_CHECK(defined(), "shape of an undefined tensor");
  return impl_->shape;
}

int64_t Tensor::dim(int axis) const {
  int n = ndim();
  int a = axis < 0 ? axis + n : axis;
  GRAFT_CHECK(a >= 0 && a < n, "axis " << axis << " out of range for " << describe());
  return impl_->shape[a];
}

int64_t Tensor::numel() const {
  return shape_numel(shape());
}

DType Tensor::dtype() const {
  GRAFT_CHECK(defined(), "dtype of an undefined tensor");
  return impl_->dtype;
}

Device Tensor::device() const {
  GRAFT_CHECK(defined(), "device of an undefined tensor");
  return impl_->storage->device();
}

void* Tensor::raw_data() const {
  GRAFT_CHECK(defined(), "data of an undefined tensor");
  return static_cast<char*>(impl_->storage->data()) + impl_->offset_bytes;
}

template <class T>
T* Tensor::data() const {
  GRAFT_CHECK(defined() && impl_->dtype == dtype_of<T>(),
              "tensor " << describe() << " accessed as " << dtype_name(dtype_of<T>()));
  return static_cast<T*>(raw_data());
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  const T* p = data<T>();
  if (device() == Device::cuda) {
    std::vector<T> out(static_cast<size_t>(numel()));
    cuda::copy_bytes(out.data(), p, bytes());
    return out;
  }
  return std::vector<T>(p, p + numel());
}

double Tensor::item() const {
  GRAFT_CHECK(numel() == 1, "item() of " << describe() << ", which is not one element");
  if (device() == Device::cuda) return to(Device::cpu).item();
  switch (dtype()) {
    case DType::f32:
      return *data<float>();
    case DType::f64:
      return *data<double>();
    case DType::i32:
      return *data<int32_t>();
    case DType::bf16:
      return bf16_to_float(*data<bf16>());
  }
  return 0;
}

bool Tensor::requires_grad() const {
  return defined() && impl_->requires_grad;
}

Tensor& Tensor::set_requires_grad(bool value) {
  GRAFT_CHECK(defined(), "requires_grad on an undefined tensor");
  GRAFT_CHECK(!value || is_floating(dtype()), "an integer tensor cannot require a gradient");
  impl_->requires_grad = value;
  return *this;
}

Tensor Tensor::grad() const {
  return defined() ? impl_->grad : Tensor();
}

void Tensor::set_grad(const Tensor& grad) const {
  GRAFT_CHECK(defined(), "set_grad on an undefined tensor");
  GRAFT_CHECK(!grad.defined() || grad.shape() == shape(),
              "gradient " << grad.describe() << " does not match " << describe());
  impl_->grad = grad;
}

void Tensor::zero_grad() const {
  if (defined()) impl_->grad = Tensor();
}

Tensor Tensor::reshape(const Shape& new_shape) const {
  GRAFT_CHECK(shape_numel(new_shape) == numel(),
              "cannot reshape " << describe() << " to " << shape_string(new_shape));
  Tensor out;
  out.impl_ = std::make_shared<TensorImpl>();
  out.impl_->storage = impl_->storage;
  out.impl_->offset_bytes = impl_->offset_bytes;
  out.impl_->shape = new_shape;
  out.impl_->dtype = impl_->dtype;
  if (needs_grad({*this})) {
    out.set_requires_grad(true);
    Tensor in = *this;
    tape().record("reshape", [in, out] {
      if (!out.has_grad()) return;
      accumulate_grad(in, out.grad().clone().reshape(in.shape()));
    });
  }
  return out;
}

Tensor Tensor::detach() const {
  Tensor out;
  out.impl_ = std::make_shared<TensorImpl>();
  out.impl_->storage = impl_->storage;
  out.impl_->offset_bytes = impl_->offset_bytes;
  out.impl_->shape = impl_->shape;
  out.impl_->dtype = impl_->dtype;
  return out;
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  out.copy_from(*this);
  return out;
}

Tensor Tensor::to(Device target) const {
  Tensor out = empty(shape(), dtype(), target);
  out.copy_from(*this);
  return out;
}

void Tensor::move_to(Device target) const {
  GRAFT_CHECK(defined(), "move_to on an undefined tensor");
  if (device() == target) return;
  Tensor moved = to(target);
  impl_->storage = moved.impl_->storage;
  impl_->offset_bytes = 0;
  if (impl_->grad.defined()) impl_->grad = impl_->grad.to(target);
}

namespace {
template <class T>
double load_as_double(const Tensor& t, int64_t i) {
  return static_cast<double>(t.data<T>()[i]);
}
double load(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::f32:
      return load_as_double<float>(t, i);
    case DType::f64:
      return load_as_double<double>(t, i);
    case DType::i32:
      return load_as_double<int32_t>(t, i);
    case DType::bf16:
      return bf16_to_float(t.data<bf16>()[i]);
  }
  return 0;
}
void store(const Tensor& t, int64_t i, double v) {
  switch (t.dtype()) {
    case DType::f32:
      t.data<float>()[i] = static_cast<float>(v);
      break;
    case DType::f64:
      t.data<double>()[i] = v;
      break;
    case DType::i32:
      t.data<int32_t>()[i] = static_cast<int32_t>(std::lround(v));
      break;
    case DType::bf16:
      t.data<bf16>()[i] = float_to_bf16(static_cast<float>(v));
      break;
  }
}
}  // namespace

void Tensor::convert_to(DType target) const {
  GRAFT_CHECK(defined(), "convert_to on an undefined tensor");
  if (dtype() == target) return;
  Tensor converted = to(target);
  impl_->storage = converted.impl_->storage;
  impl_->offset_bytes = 0;
  impl_->dtype = target;
  impl_->grad = Tensor();
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return clone();
  Tensor out = empty(shape(), target, device());
  if (device() == Device::cuda) {
    cuda::cast(*this, out);
    return out;
  }
  const int64_t n = numel();
  for (int64_t i = 0; i < n; ++i)
    store(out, i, load(*this, i));
  return out;
}

void Tensor::copy_from(const Tensor& other) const {
  GRAFT_CHECK(other.shape() == shape() && other.dtype() == dtype(),
              "copy_from " << other.describe() << " into " << describe());
  if (device() == Device::cuda || other.device() == Device::cuda) {
    cuda::copy_bytes(raw_data(), other.raw_data(), bytes());
  } else {
    std::memmove(raw_data(), other.raw_data(), bytes());
  }
}

void Tensor::fill(double value) const {
  if (device() == Device::cuda) {
    cuda::fill(*this, value);
    return;
  }
  const int64_t n = numel();
  switch (dtype()) {
    case DType::f32:
      std::fill_n(data<float>(), n, static_cast<float>(value));
      break;
    case DType::f64:
      std::fill_n(data<double>(), n, value);
      break;
    case DType::i32:
      std::fill_n(data<int32_t>(), n, static_cast<int32_t>(value));
      break;
    case DType::bf16:
      std::fill_n(data<bf16>(), n, float_to_bf16(static_cast<float>(value)));
      break;
  }
}

void Tensor::share_data_of(const Tensor& source) const {
  GRAFT_CHECK(defined() && source.defined(), "share_data_of on an undefined tensor");
  GRAFT_CHECK(shape() == source.shape() && dtype() == source.dtype() && device() == source.device(),
              "share_data_of: " << describe() << " cannot alias " << source.describe());
  impl_->storage = source.impl_->storage;
  impl_->offset_bytes = source.impl_->offset_bytes;
}

bool Tensor::same_storage(const Tensor& other) const {
  return defined() && other.defined() && impl_->storage == other.impl_->storage;
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined tensor";
  return std::string(dtype_name(dtype())) + shape_string(shape()) + " " + device_name(device());
}

#define GRAFT_INSTANTIATE(T)                                                   \
  template Tensor Tensor::from_vector<T>(const std::vector<T>&, const Shape&); \
  template T* Tensor::data<T>() const;                                         \
  template std::vector<T> Tensor::to_vector<T>() const;
GRAFT_INSTANTIATE(float)
GRAFT_INSTANTIATE(double)
GRAFT_INSTANTIATE(int32_t)
GRAFT_INSTANTIATE(bf16)
#undef GRAFT_INSTANTIATE

}  // namespace graft
