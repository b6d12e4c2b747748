// Global gradient norm and clipping (torch.nn.utils.clip_grad_norm_), in place
// and not on the tape.
//
// The norm is sqrt(Σ over tensors of Σ x²), each tensor's sum taken in double
// in fixed chunks (ops/tensor_math.h's sum_of_squares) and the tensors added in
// list order: the same value for any thread count. Nothing goes to the FLOPs
// ledger (optimizer work).
#pragma once

#include <vector>

#include "ops/tensor.h"

namespace graft {

// Undefined entries are skipped. All defined entries share one device: on the
// CPU f32 and f64 may be mixed; on CUDA f32 and bf16 may be mixed, and the
// whole list is one multi-tensor reduction (per-chunk partial sums in double,
// an ordered final sum, one host sync; ops/cuda/grad_norm.cu), bit-identical
// on reruns and within ~1e-15 relative of the CPU's order of summation.
double global_grad_norm(const std::vector<Tensor>& grads);

// The norm of the params' gradients (params that are undefined or have no
// gradient are skipped). When it is finite and above max_norm (> 0), every
// gradient is scaled by max_norm / (norm + 1e-6). Returns the norm before
// clipping; a non-finite norm leaves the gradients as they are, so the caller
// can see it and skip the step. On CUDA the scaling is one multi-tensor
// launch (factor rounded to f32, as scale_into does).
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

}  // namespace graft
