// CUDA kernels of ops/grad_norm.h: multi-tensor sum of squares and scaling
// over a list of f32/bf16 GPU tensors (mixed dtypes allowed).
#pragma once

#include <vector>

#include "ops/tensor.h"

namespace graft::cuda {

// Σ over the list of Σ x², in double: one launch of per-chunk partial sums,
// one ordered final sum and one host sync. Deterministic (bit-identical on
// reruns); undefined or empty entries are skipped.
double sum_of_squares(const std::vector<Tensor>& tensors);

// Every tensor *= factor (f32 factor, as scale_into), in one launch.
void scale_all(const std::vector<Tensor>& tensors, double factor);

}  // namespace graft::cuda
