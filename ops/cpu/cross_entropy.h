// CPU kernels of ops/cross_entropy.h, forward and backward side by side.
#pragma once

#include "ops/autograd.h"
#include "ops/cross_entropy.h"

namespace graft::cpu {

// Rows are logits viewed as [N, V]; targets as [N].
struct CrossEntropyResult {
  double loss_sum = 0;  // summed per-row loss (with smoothing when asked)
  int64_t count = 0;    // non-ignored rows
  int64_t correct = 0;  // argmax == target (only when asked)
};

// Checks targets (throws naming op and the first bad one), writes each
// non-ignored row's logsumexp into lse [N] when lse is defined, and reduces the
// loss deterministically.
CrossEntropyResult cross_entropy_forward(const char* op, const Tensor& logits,
                                         const Tensor& targets, const CrossEntropyOptions& options,
                                         const Tensor& lse, bool count_correct);

// dlogits (+)= (softmax - smoothed onehot) * scale on non-ignored rows, where
// scale = g / count.
void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse,
                            const CrossEntropyOptions& options, double scale,
                            const GradSlot& dlogits);

}  // namespace graft::cpu
