#include "tests/support/gradcheck.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ops/autograd.h"
#include "ops/check.h"
#include "ops/tensor_math.h"

namespace graft::testing {

Tensor random_tensor(const Shape& shape, std::mt19937_64& rng, DType dtype, double lo, double hi) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> values(static_cast<size_t>(shape_numel(shape)));
  for (double& v : values)
    v = dist(rng);
  Tensor t = Tensor::from_vector(values, shape);
  return dtype == DType::f64 ? t : t.to(dtype);
}

Tensor random_indices(const Shape& shape, int32_t upper, std::mt19937_64& rng) {
  std::uniform_int_distribution<int32_t> dist(0, upper - 1);
  std::vector<int32_t> values(static_cast<size_t>(shape_numel(shape)));
  for (int32_t& v : values)
    v = dist(rng);
  return Tensor::from_vector(values, shape);
}

std::vector<double> as_doubles(const Tensor& t) {
  return t.to(DType::f64).to_vector<double>();
}

void expect_gradients_match(const OpUnderTest& f, const std::vector<Tensor>& inputs, uint64_t seed,
                            GradcheckOptions options) {
  tape().clear();
  for (const Tensor& x : inputs) {
    x.zero_grad();
    if (x.requires_grad()) {
      ASSERT_EQ(x.dtype(), DType::f64) << "gradcheck inputs must be f64";
    }
  }
  Tensor out = f(inputs);
  ASSERT_TRUE(out.requires_grad()) << "op output does not require grad";
  std::mt19937_64 rng(seed);
  Tensor upstream = random_tensor(out.shape(), rng);
  tape().backward(out, upstream);

  NoGradGuard no_grad;
  auto objective = [&] { return dot(f(inputs), upstream); };
  for (size_t which = 0; which < inputs.size(); ++which) {
    const Tensor& x = inputs[which];
    if (!x.requires_grad()) continue;
    Tensor analytic = x.has_grad() ? x.grad() : Tensor::zeros(x.shape(), DType::f64);
    double* values = x.data<double>();
    const double* grad = analytic.data<double>();
    int failures = 0;
    for (int64_t i = 0; i < x.numel() && failures < 5; ++i) {
      const double saved = values[i];
      values[i] = saved + options.eps;
      const double plus = objective();
      values[i] = saved - options.eps;
      const double minus = objective();
      values[i] = saved;
      const double numeric = (plus - minus) / (2 * options.eps);
      const double tolerance = options.atol + options.rtol * std::fabs(numeric);
      if (std::fabs(grad[i] - numeric) > tolerance) {
        ++failures;
        ADD_FAILURE() << "input " << which << " " << x.describe() << " element " << i
                      << ": backward " << grad[i] << " vs finite difference " << numeric;
      }
    }
  }
}

void expect_tensors_near(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  ASSERT_EQ(actual.shape(), expected.shape()) << actual.describe() << " vs " << expected.describe();
  std::vector<double> a = as_doubles(actual), e = as_doubles(expected);
  int failures = 0;
  for (size_t i = 0; i < a.size() && failures < 5; ++i) {
    const bool both_nan = std::isnan(a[i]) && std::isnan(e[i]);
    if (!both_nan && !(std::fabs(a[i] - e[i]) <= atol + rtol * std::fabs(e[i]))) {
      ++failures;
      ADD_FAILURE() << "element " << i << ": got " << a[i] << ", expected " << e[i];
    }
  }
}

void expect_error_containing(const std::function<void()>& f,
                             const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    for (const std::string& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "'" << part << "' missing from: " << e.what();
    }
  }
}

}  // namespace graft::testing
