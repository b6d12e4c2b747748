#include "model/context.h"

#include "ops/dropout.h"

namespace graft {

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t ForwardContext::next_site_seed() {
  return mix64(mix64(seed_) ^ mix64(++sites_));
}

Tensor apply_dropout(ForwardContext& context, const Tensor& x, double p) {
  if (!context.training() || p == 0.0) return x;
  return dropout(x, p, context.next_site_seed(), true);
}

}  // namespace graft
