// CUDA kernels of ops/dropout.h (f32 and bf16), mirroring ops/cpu/dropout.h.
// The mask is bit-identical to the CPU's for the same (seed, p, numel).
#pragma once

#include <cstdint>

#include "ops/autograd.h"

namespace graft::cuda {

void dropout_forward(const Tensor& x, double p, uint64_t seed, const Tensor& out);
// dx (+)= dout * mask / (1 - p), with the mask regenerated from seed.
void dropout_backward(const Tensor& dout, double p, uint64_t seed, const GradSlot& dx);

}  // namespace graft::cuda
