#include "ops/tensor_math.h"

#include "ops/cpu/tensor_math.h"
#include "ops/cuda/tensor_math.h"
#include "ops/op_checks.h"

namespace graft {

namespace {
// CPU: f32/f64 (bf16 is a storage type there); CUDA: f32/bf16.
void check_float(const Tensor& t, const char* what) {
  GRAFT_CHECK(t.defined() && (t.device() == Device::cpu
                                  ? (t.dtype() == DType::f32 || t.dtype() == DType::f64)
                                  : (t.dtype() == DType::f32 || t.dtype() == DType::bf16)),
              what << " needs an f32/f64 CPU or f32/bf16 CUDA tensor, got " << t.describe());
}
void check_pair(const Tensor& dst, const Tensor& src, const char* what) {
  check_float(dst, what);
  GRAFT_CHECK(
      src.shape() == dst.shape() && src.dtype() == dst.dtype() && src.device() == dst.device(),
      what << ": " << src.describe() << " does not match " << dst.describe());
}
}  // namespace

void add_into(const Tensor& dst, const Tensor& src) {
  axpy_into(dst, 1.0, src);
}

void axpy_into(const Tensor& dst, double alpha, const Tensor& src) {
  check_pair(dst, src, "axpy_into");
  if (dst.device() == Device::cuda)
    GRAFT_ON_CUDA("axpy_into", dst, cuda::axpy(dst, alpha, src));
  else
    cpu::axpy(dst, alpha, src);
}

void scale_into(const Tensor& dst, double alpha) {
  check_float(dst, "scale_into");
  if (dst.device() == Device::cuda)
    GRAFT_ON_CUDA("scale_into", dst, cuda::scale(dst, alpha));
  else
    cpu::scale(dst, alpha);
}

double sum_of_squares(const Tensor& t) {
  return dot(t, t);
}

double dot(const Tensor& a, const Tensor& b) {
  check_pair(a, b, "dot");
  if (a.device() == Device::cuda) GRAFT_ON_CUDA("dot", a, return cuda::dot(a, b));
  return cpu::dot(a, b);
}

bool all_finite(const Tensor& t) {
  check_float(t, "all_finite");
  if (t.device() == Device::cuda) GRAFT_ON_CUDA("all_finite", t, return cuda::all_finite(t));
  return cpu::all_finite(t);
}

}  // namespace graft
