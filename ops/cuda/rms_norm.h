// CUDA kernels of ops/rms_norm.h (ops/cuda/rms_norm.cu), mirroring
// ops/cpu/rms_norm.h. x and weight (and the gradients) share one dtype, f32 or
// bf16; rstd is f32 [rows] whatever x's dtype.
#pragma once

#include "ops/autograd.h"

namespace graft::cuda {

// x is [rows, d] viewed flat; rstd is written.
void rms_norm_forward(const Tensor& x, const Tensor& weight, double eps, const Tensor& out,
                      const Tensor& rstd);

// Gradients for the operands whose slot pointer is non-null; deterministic.
void rms_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& rstd,
                       const Tensor& dout, const GradSlot* dx, const GradSlot* dweight);

}  // namespace graft::cuda
