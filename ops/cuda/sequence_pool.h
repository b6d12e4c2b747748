// CUDA kernels of ops/sequence_pool.h (f32 and bf16 x; i32 mask on the GPU),
// mirroring ops/cpu/sequence_pool.h.
#pragma once

#include "ops/autograd.h"
#include "ops/sequence_pool.h"

namespace graft::cuda {

// out [B, D] from x [B, T, D]; mask is i32 [B, T] on the GPU, or undefined.
void sequence_pool_forward(const Tensor& x, PoolMode mode, const Tensor& mask, const Tensor& out);

// dx (+)= the scatter of dout [B, D] to the pooled positions of x's shape.
void sequence_pool_backward(const Tensor& dout, PoolMode mode, const Tensor& mask,
                            const GradSlot& dx);

}  // namespace graft::cuda
