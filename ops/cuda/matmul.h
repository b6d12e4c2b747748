// CUDA kernels of ops/matmul.h (ops/cuda/matmul.cu), mirroring ops/cpu/matmul.h:
// same arguments, f32 or bf16 tensors on the GPU (f64 is refused).
#pragma once

#include "ops/autograd.h"
#include "ops/matmul.h"

namespace graft::cuda {

// pre = op(a) op(b) + bias; out = gelu(pre) when gelu, else out is pre.
// When gelu and pre is undefined, the pre-activation is not kept.
void matmul_forward(const MatmulShape& s, const Tensor& a, const Tensor& b, const Tensor& bias,
                    bool gelu, const Tensor& pre, const Tensor& out);

// Gradients for the operands whose slot pointer is non-null (accumulate adds);
// pre is the kept pre-activation (gelu only).
void matmul_backward(const MatmulShape& s, const Tensor& a, const Tensor& b, const Tensor& pre,
                     const Tensor& dout, bool gelu, const GradSlot* da, const GradSlot* db,
                     const GradSlot* dbias);

}  // namespace graft::cuda
