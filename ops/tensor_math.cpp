#include "ops/tensor_math.h"

#include "ops/cpu/tensor_math.h"

namespace graft {

namespace {
void check_cpu_float(const Tensor& t, const char* what) {
  GRAFT_CHECK(t.defined() && t.device() == Device::cpu &&
                  (t.dtype() == DType::f32 || t.dtype() == DType::f64),
              what << " needs a CPU f32/f64 tensor, got " << t.describe());
}
void check_pair(const Tensor& dst, const Tensor& src, const char* what) {
  check_cpu_float(dst, what);
  GRAFT_CHECK(src.shape() == dst.shape() && src.dtype() == dst.dtype(),
              what << ": " << src.describe() << " does not match " << dst.describe());
}
}  // namespace

void add_into(const Tensor& dst, const Tensor& src) {
  axpy_into(dst, 1.0, src);
}

void axpy_into(const Tensor& dst, double alpha, const Tensor& src) {
  check_pair(dst, src, "axpy_into");
  cpu::axpy(dst, alpha, src);
}

void scale_into(const Tensor& dst, double alpha) {
  check_cpu_float(dst, "scale_into");
  cpu::scale(dst, alpha);
}

double sum_of_squares(const Tensor& t) {
  return dot(t, t);
}

double dot(const Tensor& a, const Tensor& b) {
  check_pair(a, b, "dot");
  return cpu::dot(a, b);
}

bool all_finite(const Tensor& t) {
  check_cpu_float(t, "all_finite");
  return cpu::all_finite(t);
}

}  // namespace graft
