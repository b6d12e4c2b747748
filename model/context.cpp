#include "model/context.h"

#include "ops/dropout.h"

namespace graft {

uint64_t ForwardContext::next_site_seed() {
  return mix64(mix64(seed_) ^ mix64(++sites_));
}

Tensor apply_dropout(ForwardContext& context, const Tensor& x, double p) {
  if (!context.training() || p == 0.0) return x;
  return dropout(x, p, context.next_site_seed(), true);
}

}  // namespace graft
