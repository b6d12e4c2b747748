// Helpers for the CUDA tests (tests/cuda): skip without a GPU, saying why,
// and compare a device result with the CPU op's result.
#pragma once

#include <gtest/gtest.h>

#include <random>

#include "ops/cuda/backend.h"
#include "ops/tensor.h"

// First statement of every CUDA test: without a usable GPU the test is
// reported as skipped with the driver's reason (CI has no GPU).
#define GRAFT_REQUIRE_GPU()                                                         \
  do {                                                                              \
    if (!::graft::cuda::available())                                                \
      GTEST_SKIP() << "CUDA test skipped: " << ::graft::cuda::unavailable_reason(); \
  } while (0)

namespace graft::testing {

// ||actual - expected|| / ||expected|| in double over all elements (actual on
// any device, any float dtype), and the first non-finite element if any.
double relative_error(const Tensor& actual, const Tensor& expected);

// Fails (naming what) when relative_error exceeds tolerance or any element of
// actual is not finite. Tolerances: 1e-5 for f32 kernels, 1e-2 for bf16.
void expect_relative_error_below(const Tensor& actual, const Tensor& expected, double tolerance,
                                 const std::string& what);

// Random f32 CPU tensor; with round_to_bf16 its values are exactly
// representable in bf16, so the CPU reference sees the GPU's inputs.
Tensor random_f32(const Shape& shape, std::mt19937_64& rng, double lo = -1.0, double hi = 1.0,
                  bool round_to_bf16 = false);

// The same values on the GPU in dtype (f32 or bf16).
Tensor to_gpu(const Tensor& cpu_tensor, DType dtype);

// A GPU result back as f32 on the CPU.
Tensor to_cpu_f32(const Tensor& t);

}  // namespace graft::testing
