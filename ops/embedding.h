// embedding: out[..., :] = table[ids[...], :], a row gather.
//
//   ids: i32 of any shape (a scalar too), every id in [0, V);
//   table: [V, D] f32/f64 on the CPU, f32/bf16 on CUDA (ids on the same device);
//   out: ids.shape + [D], table's dtype.
// An out-of-range id is a graft::Error naming the id, its position in ids and V.
// Backward scatter-adds dout into the table's gradient (ids get none). Repeated
// ids are summed in position order, row by row, so the gradient is bit for bit
// the same for any thread count.
// FLOPs (other): forward 0 (a copy); backward N*D, one add per gathered
// element (N = ids.numel()).
#pragma once

#include "ops/tensor.h"

namespace graft {

Tensor embedding(const Tensor& ids, const Tensor& table);

}  // namespace graft
