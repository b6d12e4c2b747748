// CPU kernels of ops/layer_norm.h, forward and backward side by side.
#pragma once

#include "ops/autograd.h"

namespace graft::cpu {

// x is [rows, d] viewed flat; mean and rstd are [rows] and are written.
void layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                        const Tensor& out, const Tensor& mean, const Tensor& rstd);

// Gradients for the operands whose slot pointer is non-null.
void layer_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& rstd, const Tensor& dout, const GradSlot* dx,
                         const GradSlot* dweight, const GradSlot* dbias);

}  // namespace graft::cpu
