// CUDA kernels of ops/binary_cross_entropy.h (ops/cuda/binary_cross_entropy.cu),
// mirroring ops/cpu/binary_cross_entropy.h. logits, targets and weights share
// one dtype, f32 or bf16.
#pragma once

#include "ops/autograd.h"
#include "ops/cpu/binary_cross_entropy.h"

namespace graft::cuda {

// Σ w·l and Σ w in double (fixed-order reduction); weights may be undefined
// (all ones). Writes the mean Σ w·l / Σ w (0 when Σ w == 0) into loss, an f32
// scalar on the GPU, when defined. Waits for the GPU once to read the sums.
cpu::BceSums bce_with_logits_forward(const Tensor& logits, const Tensor& targets,
                                     const Tensor& weights, const Tensor& loss);

// dlogits (+)= (sigmoid(x) - y) · w · scale.
void bce_with_logits_backward(const Tensor& logits, const Tensor& targets, const Tensor& weights,
                              double scale, const GradSlot& dlogits);

}  // namespace graft::cuda
