// Test helpers that prove numbers: float64 central finite differences against
// the tape's backward, and element-wise comparisons with useful messages.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ops/tensor.h"

namespace graft::testing {

// Uniform values in [lo, hi) from a seeded generator.
Tensor random_tensor(const Shape& shape, std::mt19937_64& rng, DType dtype = DType::f64,
                     double lo = -1.0, double hi = 1.0);
Tensor random_indices(const Shape& shape, int32_t upper, std::mt19937_64& rng);

struct GradcheckOptions {
  double eps = 1e-6;   // central-difference step
  double rtol = 1e-6;  // relative tolerance on each gradient element
  double atol = 1e-9;  // absolute tolerance
};

using OpUnderTest = std::function<Tensor(const std::vector<Tensor>&)>;

// For every input with requires_grad: backward of <f(inputs), g> for a random
// g equals (F(x + eps) - F(x - eps)) / 2eps per element, all in float64.
// Inputs must be f64 (indices may be i32 and are not differentiated).
void expect_gradients_match(const OpUnderTest& f, const std::vector<Tensor>& inputs,
                            uint64_t seed = 7, GradcheckOptions options = {});

// |actual - expected| <= atol + rtol * |expected| element-wise (any float dtype).
void expect_tensors_near(const Tensor& actual, const Tensor& expected, double rtol, double atol);

std::vector<double> as_doubles(const Tensor& t);

// f must throw graft::Error whose message contains every one of parts.
void expect_error_containing(const std::function<void()>& f, const std::vector<std::string>& parts);

}  // namespace graft::testing
