#include "ops/cpu/dropout.h"

#include <cmath>

#include "ops/cpu/elementwise.h"
#include "ops/cpu/parallel.h"
#include "ops/hash.h"

namespace graft::cpu {

namespace {

// Element i's draw is output i of a splitmix64 stream whose state starts at a
// hash of the seed: nearby seeds give unrelated streams. The stream's state
// after first_index steps is key + first_index·γ (mod 2^64), so a slice
// starting at first_index only moves the key.
struct DropMask {
  uint64_t key;
  uint64_t threshold;  // keep iff the top 53 bits of the draw are >= this

  DropMask(double p, uint64_t seed, int64_t first_index)
      : key(mix64(seed) + static_cast<uint64_t>(first_index) * kGoldenGamma),
        // u = bits * 2^-53 >= p  <=>  bits >= ceil(p * 2^53), exactly.
        threshold(static_cast<uint64_t>(std::ceil(std::ldexp(p, 53)))) {}

  bool keep(int64_t i) const {
    return (mix64(key + static_cast<uint64_t>(i) * kGoldenGamma) >> 11) >= threshold;
  }
};

}  // namespace

void dropout_forward(const Tensor& x, double p, uint64_t seed, int64_t first_index,
                     const Tensor& out) {
  dispatch_float(x.dtype(), "dropout", [&](auto zero) {
    using T = decltype(zero);
    const DropMask mask(p, seed, first_index);
    const T kept_scale = static_cast<T>(1.0 / (1.0 - p));
    const T* in = x.data<T>();
    T* o = out.data<T>();
    const int64_t n = x.numel();
#pragma omp parallel for simd schedule(static) if (n > kParallelElements)
    for (int64_t i = 0; i < n; ++i)
      o[i] = mask.keep(i) ? in[i] * kept_scale : T(0);
  });
}

void dropout_backward(const Tensor& dout, double p, uint64_t seed, int64_t first_index,
                      const GradSlot& dx) {
  dispatch_float(dout.dtype(), "dropout backward", [&](auto zero) {
    using T = decltype(zero);
    const DropMask mask(p, seed, first_index);
    const T kept_scale = static_cast<T>(1.0 / (1.0 - p));
    const T* g = dout.data<T>();
    write_grad<T>(dx, dout.numel(), [mask, g, kept_scale](int64_t i) {
      return mask.keep(i) ? g[i] * kept_scale : T(0);
    });
  });
}

}  // namespace graft::cpu
