// CPU kernels of ops/attention.h, forward and backward side by side.
#pragma once

#include "ops/attention.h"
#include "ops/autograd.h"

namespace graft::cpu {

// out = softmax(scale * Q K^T + masks) V per (batch, head). probs, when
// defined ([B, H, Tq, Tk]), receives the probabilities for backward; when
// undefined they live only in per-thread scratch. mask may be undefined.
void attention_forward(const AttentionShape& s, const Tensor& q, const Tensor& k, const Tensor& v,
                       const Tensor& mask, const Tensor& probs, const Tensor& out);

// Gradients for the operands whose slot pointer is non-null, written in the
// order dQ, dK, dV within each (batch, head) so that aliased operands (q, k
// and v the same tensor) sharing one slot still work: the caller takes the
// slots in that same order, so only the first written can be fresh.
void attention_backward(const AttentionShape& s, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& probs, const Tensor& dout, const GradSlot* dq,
                        const GradSlot* dk, const GradSlot* dv);

}  // namespace graft::cpu
