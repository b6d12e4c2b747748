// CUDA kernels of ops/tensor_math.h (f32 and bf16 tensors; sums in double).
#pragma once

#include "ops/tensor.h"

namespace graft::cuda {

void axpy(const Tensor& dst, double alpha, const Tensor& src);
void scale(const Tensor& dst, double alpha);
// Deterministic: fixed per-block partial sums added in block order.
double dot(const Tensor& a, const Tensor& b);
bool all_finite(const Tensor& t);

}  // namespace graft::cuda
