// Element-wise arithmetic: add (with suffix broadcast), scale and mul.
//
//   add(a, b):   a [..., S], b [S] where S is a's shape or any suffix of it
//                (b is broadcast over a's leading dims, e.g. position
//                embeddings [T, D] added to [B, T, D]); out has a's shape.
//   scale(x, α): α * x.
//   mul(a, b):   a * b, same shapes.
// All operands share one floating dtype. FLOPs (FlopsKind::other), N = out's
// elements: add N forward, backward N - b.numel() adds to reduce db over the
// broadcast dims (0 when the shapes match; passing da through is free);
// scale N forward, N backward; mul N forward, N per gradient computed.
#pragma once

#include "ops/tensor.h"

namespace graft {

Tensor add(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& x, double alpha);
Tensor mul(const Tensor& a, const Tensor& b);

}  // namespace graft
