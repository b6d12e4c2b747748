#include "tests/support/cuda_compare.h"

#include <cmath>

#include "tests/support/gradcheck.h"

namespace graft::testing {

double relative_error(const Tensor& actual, const Tensor& expected) {
  const std::vector<double> a = as_doubles(to_cpu_f32(actual));
  const std::vector<double> e =
      as_doubles(expected.device() == Device::cpu ? expected : to_cpu_f32(expected));
  EXPECT_EQ(a.size(), e.size());
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size() && i < e.size(); ++i) {
    if (!std::isfinite(a[i])) return INFINITY;
    diff += (a[i] - e[i]) * (a[i] - e[i]);
    norm += e[i] * e[i];
  }
  if (norm == 0) return std::sqrt(diff);
  return std::sqrt(diff / norm);
}

void expect_relative_error_below(const Tensor& actual, const Tensor& expected, double tolerance,
                                 const std::string& what) {
  ASSERT_EQ(actual.shape(), expected.shape()) << what;
  const double error = relative_error(actual, expected);
  EXPECT_LE(error, tolerance) << what << ": relative error " << error << " (tolerance " << tolerance
                              << "), " << actual.describe() << " vs " << expected.describe();
}

Tensor random_f32(const Shape& shape, std::mt19937_64& rng, double lo, double hi,
                  bool round_to_bf16) {
  Tensor t = random_tensor(shape, rng, DType::f32, lo, hi);
  return round_to_bf16 ? t.to(DType::bf16).to(DType::f32) : t;
}

Tensor to_gpu(const Tensor& cpu_tensor, DType dtype) {
  Tensor converted = cpu_tensor.dtype() == dtype ? cpu_tensor : cpu_tensor.to(dtype);
  return converted.to(Device::cuda);
}

Tensor to_cpu_f32(const Tensor& t) {
  Tensor host = t.device() == Device::cpu ? t : t.to(Device::cpu);
  return host.dtype() == DType::f32 ? host : host.to(DType::f32);
}

}  // namespace graft::testing
