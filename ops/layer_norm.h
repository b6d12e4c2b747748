// layer_norm: y = (x - mean) * rstd * weight + bias over the last dim, with
// rstd = 1 / sqrt(var + eps) and var the biased (population) variance, as in
// torch.nn.LayerNorm.
//
//   x: [..., D] f32/f64 on the CPU, f32/bf16 on CUDA; weight: [D]; bias: [D] or
//   undefined (both x's dtype and device); out: x's shape.
// Forward keeps each row's mean and rstd for backward.
// FLOPs (FlopsKind::other), N = x.numel(): forward 8 per element (7 without
// bias): 1 for the mean, 3 for the variance, 4 to normalise and apply the
// affine. Backward 10 per element for dx, 2 for dweight, 1 for dbias, each
// only when that gradient is computed.
#pragma once

#include "ops/tensor.h"

namespace graft {

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-5);

}  // namespace graft
