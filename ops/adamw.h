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
//
// Devices: CPU f32/f64; CUDA f32 (adamw_step) and, through adamw_multi_step,
// bf16 parameters with f32 master weights (llm.c-style mixed precision).
#pragma once

#include <cstdint>
#include <vector>

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

// One parameter tensor's share of adamw_multi_step.
//   param, grad, m, v: as for adamw_step, except as follows with a master.
//   master (optional): the f32 master copy of a bf16 param (CUDA only). The
//     update runs on master with f32 m and v, then param = bf16(master), round
//     to nearest even. grad is then bf16 or f32.
//   step: this tensor's own bias-correction step (>= 1, already incremented
//     by the caller); weight_decay: this tensor's decay (0 for no-decay params).
struct AdamWTensor {
  Tensor param, grad, m, v, master;
  int64_t step = 1;
  double weight_decay = 0.0;
};

// adamw_step for every entry, with lr as given: options.lr and
// options.weight_decay are ignored (the per-tensor weight_decay applies);
// beta1, beta2 and eps come from options. All entries share one device.
// On CUDA it is one kernel launch for the whole list (a multi-tensor launch,
// ops/cuda/adamw.cu). On CPU it loops adamw_step's math; CPU parameters are
// f32/f64, never bf16, so a defined master is an error there.
void adamw_multi_step(const std::vector<AdamWTensor>& tensors, double lr,
                      const AdamWOptions& options);

}  // namespace graft
