// Inverted dropout on the GPU with the CPU's counter-based mask.
//
// Element i is kept iff (mix64(mix64(seed) + i·γ) >> 11) >= ceil(p·2^53),
// exactly the CPU's rule (ops/cpu/dropout.cpp, ops/hash.h): the key and the
// threshold are computed on the host with the same code, the per-element hash
// on the device with a port of mix64 (64-bit integer arithmetic wraps the same
// way on both sides). So CPU and GPU drop the same elements, the mask needs no
// storage and backward regenerates it; f32 outputs match the CPU bit for bit.
#include <cmath>

#include "ops/cuda/dropout.h"
#include "ops/cuda/pointwise.cuh"
#include "ops/cuda/runtime.h"
#include "ops/hash.h"

namespace graft::cuda {

namespace {

constexpr int kThreads = 256;

// ops/hash.h's mix64 (SplitMix64's finaliser), on the device.
__device__ __forceinline__ uint64_t mix64_device(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct DropMask {
  uint64_t key;
  uint64_t threshold;
  float kept_scale;

  __device__ __forceinline__ bool keep(int64_t i) const {
    return (mix64_device(key + static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ULL) >> 11) >=
           threshold;
  }
};

// A slice starting at first_index: the stream's state after first_index
// steps, key + first_index·γ (mod 2^64), as on the CPU.
DropMask make_mask(double p, uint64_t seed, int64_t first_index) {
  static_assert(kGoldenGamma == 0x9e3779b97f4a7c15ULL, "mix64_device must match ops/hash.h");
  DropMask mask;
  mask.key = mix64(seed) + static_cast<uint64_t>(first_index) * kGoldenGamma;
  mask.threshold = static_cast<uint64_t>(std::ceil(std::ldexp(p, 53)));
  mask.kept_scale = static_cast<float>(1.0 / (1.0 - p));
  return mask;
}

template <class T>
__global__ void dropout_forward_kernel(DropMask mask, const T* x, T* out, int64_t n) {
  GRAFT_FOR_EACH_ELEMENT(i, n) {
    out[i] = from_float<T>(mask.keep(i) ? to_float(x[i]) * mask.kept_scale : 0.0f);
  }
}

template <class T>
__global__ void dropout_backward_kernel(DropMask mask, const T* dout, T* dx, int64_t n,
                                        bool accumulate) {
  GRAFT_FOR_EACH_ELEMENT(i, n) {
    store_grad(dx, i, mask.keep(i) ? to_float(dout[i]) * mask.kept_scale : 0.0f, accumulate);
  }
}

}  // namespace

void dropout_forward(const Tensor& x, double p, uint64_t seed, int64_t first_index,
                     const Tensor& out) {
  const int64_t n = x.numel();
  const DropMask mask = make_mask(p, seed, first_index);
  GRAFT_CUDA_DISPATCH_FLOAT(x.dtype(), "dropout", [&] {
    if (n == 0) return;
    dropout_forward_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(
        mask, static_cast<const scalar_t*>(x.raw_data()), static_cast<scalar_t*>(out.raw_data()),
        n);
    GRAFT_CUDA_CHECK_LAUNCH();
  });
}

void dropout_backward(const Tensor& dout, double p, uint64_t seed, int64_t first_index,
                      const GradSlot& dx) {
  const int64_t n = dout.numel();
  const DropMask mask = make_mask(p, seed, first_index);
  GRAFT_CUDA_DISPATCH_FLOAT(dout.dtype(), "dropout backward", [&] {
    if (n == 0) return;
    dropout_backward_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(
        mask, static_cast<const scalar_t*>(dout.raw_data()),
        static_cast<scalar_t*>(dx.grad.raw_data()), n, dx.accumulate);
    GRAFT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace graft::cuda
