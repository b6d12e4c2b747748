// CPU kernels of ops/gelu.h, forward and backward side by side.
#pragma once

#include "ops/autograd.h"

namespace graft::cpu {

void gelu_forward(const Tensor& x, const Tensor& out);
// dx (+)= dout * gelu'(x).
void gelu_backward(const Tensor& x, const Tensor& dout, const GradSlot& dx);

}  // namespace graft::cpu
