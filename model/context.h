// ForwardContext: what one forward pass needs besides inputs and weights —
// whether it trains (dropout on) and the seed dropout masks derive from.
//
// Each dropout site asks the context for the next seed; sites run in a fixed
// order for a given model and inputs, so the same (seed, inputs) gives the
// same forward bit for bit, and two steps with different seeds get unrelated
// masks.
//
// first_row: the global row of the batch's row 0. A data-parallel rank holds
// rows [first_row, first_row + B) of a global micro-batch; dropout masks are
// drawn by global element index (ops/dropout.h's first_index), so the dp
// ranks together draw the masks of one process with the whole batch, and a
// dp run trains like one rank. Tensor-parallel ranks of a replica hold the
// same rows and draw the same masks.
#pragma once

#include <cstdint>

#include "ops/hash.h"  // mix64, used by callers deriving seeds
#include "ops/tensor.h"

namespace graft {

class ForwardContext {
 public:
  ForwardContext() = default;  // evaluation: no dropout
  ForwardContext(bool training, uint64_t seed, int64_t first_row = 0)
      : training_(training), seed_(seed), first_row_(first_row) {}

  bool training() const { return training_; }
  uint64_t seed() const { return seed_; }
  int64_t first_row() const { return first_row_; }
  // A seed for the next dropout site: a hash of (seed, site index).
  uint64_t next_site_seed();

 private:
  bool training_ = false;
  uint64_t seed_ = 0;
  int64_t first_row_ = 0;
  uint64_t sites_ = 0;
};

// dropout(x, p) with a fresh site seed when training and p > 0; x itself
// otherwise (no seed consumed, so evaluation never depends on p). x's first
// axis is the batch's rows ([B, T, D] at every site), so its mask starts at
// element first_row · (x.numel() / B) of the global batch's.
Tensor apply_dropout(ForwardContext& context, const Tensor& x, double p);

}  // namespace graft
