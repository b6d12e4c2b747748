// CUDA kernels of ops/gelu.h (f32 and bf16), mirroring ops/cpu/gelu.h.
#pragma once

#include "ops/autograd.h"

namespace graft::cuda {

void gelu_forward(const Tensor& x, const Tensor& out);
// dx (+)= dout * gelu'(x).
void gelu_backward(const Tensor& x, const Tensor& dout, const GradSlot& dx);

}  // namespace graft::cuda
