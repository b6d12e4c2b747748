// CUDA kernels of ops/cross_entropy.h (ops/cuda/cross_entropy.cu), mirroring
// ops/cpu/cross_entropy.h. logits are f32 or bf16; lse is f32 [N] whatever the
// logits' dtype.
#pragma once

#include "ops/autograd.h"
#include "ops/cross_entropy.h"

namespace graft::cuda {

// Rows are logits viewed as [N, V]; targets as [N] (i32, on the GPU).
// Checks the targets (throws naming op and the first bad one, with the CPU's
// message), writes each non-ignored row's logsumexp into lse when defined and
// the mean loss into loss (an f32 scalar on the GPU) when defined; returns the
// summed loss (in double, a fixed-order reduction), the non-ignored count and,
// with count_correct, the rows whose argmax (lowest index on ties) is the
// target. Waits for the GPU once, to read those numbers back.
CrossEntropyStats cross_entropy_forward(const char* op, const Tensor& logits, const Tensor& targets,
                                        const CrossEntropyOptions& options, const Tensor& lse,
                                        const Tensor& loss, bool count_correct);

// dlogits (+)= (softmax - smoothed onehot) * scale on non-ignored rows (0 on
// ignored rows when overwriting), scale = g / count, softmax recomputed from lse.
void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse,
                            const CrossEntropyOptions& options, double scale,
                            const GradSlot& dlogits);

}  // namespace graft::cuda
