// rms_norm (T5 / LLaMA style): y = x * rstd * weight over the last dim, with
// rstd = 1 / sqrt(mean(x^2) + eps); no mean subtraction, no bias.
//
//   x: [..., D] f32/f64 on the CPU, f32/bf16 on CUDA; weight: [D] (x's dtype and
//   device); out: x's shape.
// Forward keeps each row's rstd for backward.
// FLOPs (FlopsKind::other), N = x.numel(): forward 4 per element (2 for the
// sum of squares, 2 to scale); backward 7 per element for dx and 2 for
// dweight, each only when that gradient is computed.
#pragma once

#include "ops/tensor.h"

namespace graft {

Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps = 1e-6);

}  // namespace graft
