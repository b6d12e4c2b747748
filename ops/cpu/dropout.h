// CPU kernels of ops/dropout.h, forward and backward side by side.
#pragma once

#include <cstdint>

#include "ops/autograd.h"

namespace graft::cpu {

// Element i of x is element first_index + i of the mask (ops/dropout.h).
void dropout_forward(const Tensor& x, double p, uint64_t seed, int64_t first_index,
                     const Tensor& out);
// dx (+)= dout * mask / (1 - p), with the mask regenerated from seed.
void dropout_backward(const Tensor& dout, double p, uint64_t seed, int64_t first_index,
                      const GradSlot& dx);

}  // namespace graft::cpu
