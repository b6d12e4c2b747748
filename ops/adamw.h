// adamw_step: one AdamW update, in place, not on the tape.
//
//   param, grad, m, v: same shape and dtype (f32/f64), m and v the optimizer's
//   first and second moments (zeros before step 1); step >= 1.
// Decoupled weight decay (Loshchilov & Hutter), applied to the parameter, not
// mixed into the gradient, so a zero gradient still decays:
//   p -= lr·wd·p;  m = b1·m + (1-b1)·g;  v = b2·v + (1-b2)·g²;
//   p -= lr · (m / (1-b1^step)) / (sqrt(v / (1-b2^step)) + eps)
// Element-wise, so the result does not depend on the thread count. Optimizer
// work is neither forward nor backward: nothing goes to the FLOPs ledger.
#pragma once

#include <cstdint>

#include "ops/tensor.h"

namespace graft {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;
};

void adamw_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                int64_t step, const AdamWOptions& options);

}  // namespace graft
