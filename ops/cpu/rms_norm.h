// CPU kernels of ops/rms_norm.h, forward and backward side by side.
#pragma once

#include "ops/autograd.h"

namespace graft::cpu {

// x is [rows, d] viewed flat; rstd is [rows] and is written.
void rms_norm_forward(const Tensor& x, const Tensor& weight, double eps, const Tensor& out,
                      const Tensor& rstd);

// Gradients for the operands whose slot pointer is non-null.
void rms_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& rstd,
                       const Tensor& dout, const GradSlot* dx, const GradSlot* dweight);

}  // namespace graft::cpu
