// ForwardContext: what one forward pass needs besides inputs and weights —
// whether it trains (dropout on) and the seed dropout masks derive from.
//
// Each dropout site asks the context for the next seed; sites run in a fixed
// order for a given model and inputs, so the same (seed, inputs) gives the
// same forward bit for bit, and two steps with different seeds get unrelated
// masks.
#pragma once

#include <cstdint>

#include "ops/hash.h"  // mix64, used by callers deriving seeds
#include "ops/tensor.h"

namespace graft {

class ForwardContext {
 public:
  ForwardContext() = default;  // evaluation: no dropout
  ForwardContext(bool training, uint64_t seed) : training_(training), seed_(seed) {}

  bool training() const { return training_; }
  uint64_t seed() const { return seed_; }
  // A seed for the next dropout site: a hash of (seed, site index).
  uint64_t next_site_seed();

 private:
  bool training_ = false;
  uint64_t seed_ = 0;
  uint64_t sites_ = 0;
};

// dropout(x, p) with a fresh site seed when training and p > 0; x itself
// otherwise (no seed consumed, so evaluation never depends on p).
Tensor apply_dropout(ForwardContext& context, const Tensor& x, double p);

}  // namespace graft
