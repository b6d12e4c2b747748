// CPU kernels of ops/binary_cross_entropy.h, forward and backward side by side.
#pragma once

#include "ops/autograd.h"

namespace graft::cpu {

struct BceSums {
  double loss = 0;    // Σ w·l
  double weight = 0;  // Σ w (the element count without weights)
};

// weights may be undefined (all ones).
BceSums bce_with_logits_forward(const Tensor& logits, const Tensor& targets, const Tensor& weights);

// dlogits (+)= (sigmoid(x) - y) · w · scale.
void bce_with_logits_backward(const Tensor& logits, const Tensor& targets, const Tensor& weights,
                              double scale, const GradSlot& dlogits);

}  // namespace graft::cpu
