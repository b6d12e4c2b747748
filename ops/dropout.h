// dropout: zero each element with probability p and scale the kept ones by
// 1 / (1 - p) (inverted dropout), so evaluation needs no rescaling.
//
//   x: any shape, f32/f64 on the CPU, f32/bf16 on CUDA; out: x's shape; 0 <= p < 1.
// The mask is a pure function of (seed, flat element index): a counter-based
// hash (splitmix64), so it is the same for any thread count and backward
// regenerates it instead of storing it. p == 0 or !training returns x itself
// (the same handle, nothing recorded). Use a fresh seed per call site and step.
// first_index: x is elements [first_index, first_index + numel) of a larger
// tensor, and gets exactly that slice of the larger tensor's mask. A
// data-parallel rank passes its rows' offset in the global batch, so the
// ranks together drop what one process with the whole batch would.
// FLOPs (FlopsKind::other), N = x.numel(): forward N (the hash is integer
// work and not counted); backward N.
#pragma once

#include <cstdint>

#include "ops/tensor.h"

namespace graft {

Tensor dropout(const Tensor& x, double p, uint64_t seed, bool training = true,
               int64_t first_index = 0);

}  // namespace graft
