// CUDA kernels of ops/dropout.h (f32 and bf16), mirroring ops/cpu/dropout.h.
// The mask is bit-identical to the CPU's for the same (seed, p, numel).
#pragma once

#include <cstdint>

#include "ops/autograd.h"

namespace graft::cuda {

// Element i of x is element first_index + i of the mask (ops/dropout.h).
void dropout_forward(const Tensor& x, double p, uint64_t seed, int64_t first_index,
                     const Tensor& out);
// dx (+)= dout * mask / (1 - p), with the mask regenerated from seed.
void dropout_backward(const Tensor& dout, double p, uint64_t seed, int64_t first_index,
                      const GradSlot& dx);

}  // namespace graft::cuda
