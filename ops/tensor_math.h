// Non-differentiable in-place arithmetic on whole tensors: what gradient
// accumulation, optimizers and tests need. No tape entries, no FLOPs counted
// as model work (they go to the ledger's "other").
#pragma once

#include "ops/tensor.h"

namespace graft {

void add_into(const Tensor& dst, const Tensor& src);                 // dst += src
void axpy_into(const Tensor& dst, double alpha, const Tensor& src);  // dst += alpha * src
void scale_into(const Tensor& dst, double alpha);                    // dst *= alpha
double sum_of_squares(const Tensor& t);                              // in double
double dot(const Tensor& a, const Tensor& b);                        // in double
bool all_finite(const Tensor& t);

}  // namespace graft
