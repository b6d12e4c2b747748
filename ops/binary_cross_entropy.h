// bce_with_logits: binary cross-entropy on logits, reduced to one weighted mean.
//
//   logits, targets: same shape, f32/f64 on the CPU, f32/bf16 on CUDA (targets
//   0/1 or soft in [0, 1]); weights: undefined, or same shape, dtype and device
//   (e.g. 0 at padding);
//   out: scalar (shape {}) on logits' device, logits' dtype on the CPU and
//   always f32 on CUDA, = Σ w·l / Σ w, the plain mean without weights, and
//   0 when Σ w == 0 (or there are no elements), where per element
//     l = max(x, 0) - x·y + log1p(exp(-|x|))
//   (stable for any x). The sums are taken in double in fixed chunks in order,
//   so the result does not depend on the thread count.
// Backward: dlogits = (sigmoid(x) - y) · w · g / Σ w; targets and weights get
// no gradient.
// FLOPs (other): forward 8 per element (max, x·y, subtract, |x|, exp, log1p,
// add, the w·l sum), backward 4 per element (sigmoid, subtract, two scales).
#pragma once

#include "ops/tensor.h"

namespace graft {

Tensor bce_with_logits(const Tensor& logits, const Tensor& targets,
                       const Tensor& weights = Tensor());

}  // namespace graft
