// CPU kernels behind ops/tensor_math.h (f32 and f64).
#pragma once

#include "ops/tensor.h"

namespace graft::cpu {

void axpy(const Tensor& dst, double alpha, const Tensor& src);
void scale(const Tensor& dst, double alpha);
double dot(const Tensor& a, const Tensor& b);
bool all_finite(const Tensor& t);

}  // namespace graft::cpu
