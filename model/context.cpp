#include "model/context.h"

#include "ops/dropout.h"

namespace graft {

uint64_t ForwardContext::next_site_seed() {
  return mix64(mix64(seed_) ^ mix64(++sites_));
}

Tensor apply_dropout(ForwardContext& context, const Tensor& x, double p) {
  if (!context.training() || p == 0.0) return x;
  GRAFT_CHECK(x.ndim() >= 1, "dropout site: expected [B, ...] rows, got " << x.describe());
  const int64_t rows = x.dim(0);
  const int64_t first_index = rows > 0 ? context.first_row() * (x.numel() / rows) : 0;
  return dropout(x, p, context.next_site_seed(), true, first_index);
}

}  // namespace graft
