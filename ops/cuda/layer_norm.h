// CUDA kernels of ops/layer_norm.h (ops/cuda/layer_norm.cu), mirroring
// ops/cpu/layer_norm.h. x, weight, bias (and the gradients) share one dtype,
// f32 or bf16; mean and rstd are f32 [rows] whatever x's dtype.
#pragma once

#include "ops/autograd.h"

namespace graft::cuda {

// x is [rows, d] viewed flat; mean and rstd are written.
void layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                        const Tensor& out, const Tensor& mean, const Tensor& rstd);

// Gradients for the operands whose slot pointer is non-null; deterministic.
void layer_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& rstd, const Tensor& dout, const GradSlot* dx,
                         const GradSlot* dweight, const GradSlot* dbias);

}  // namespace graft::cuda
