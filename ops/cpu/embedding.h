// CPU kernels of ops/embedding.h, forward and backward side by side.
#pragma once

#include "ops/autograd.h"

namespace graft::cpu {

// Checks every id against table's V (throws naming the first bad one), then
// fills out [N, D] with table rows.
void embedding_forward(const Tensor& ids, const Tensor& table, const Tensor& out);

// dtable (+)= scatter of dout [N, D] by ids, deterministic.
void embedding_backward(const Tensor& ids, const Tensor& dout, const GradSlot& dtable);

}  // namespace graft::cpu
