// bce_with_logits on the GPU. Forward: a fixed grid (kReduceBlocks blocks of
// kThreads) strides over the elements, each thread summing its loss and weight
// in double, each block combining its threads in a fixed order; one thread
// then adds the block partials in order. The split depends only on n, so the
// sums are bit-identical run to run. Backward is element-wise.
#include "ops/cuda/binary_cross_entropy.h"
#include "ops/cuda/kernel_utils.cuh"
#include "ops/cuda/runtime.h"

namespace graft::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kReduceBlocks = 256;

// max(x, 0) - x·y + log1p(exp(-|x|)): exp never overflows.
__device__ __forceinline__ float bce_element(float x, float y) {
  return fmaxf(x, 0.0f) - x * y + log1pf(expf(-fabsf(x)));
}

__device__ __forceinline__ float stable_sigmoid(float x) {
  const float e = expf(-fabsf(x));
  return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

__device__ __forceinline__ double warp_sum_double(double v) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// partial[2 * block] = Σ w·l, partial[2 * block + 1] = Σ w over the block's share.
template <class T>
__global__ void bce_partial_kernel(const T* __restrict__ x, const T* __restrict__ y,
                                   const T* __restrict__ w, int64_t n,
                                   double* __restrict__ partial) {
  __shared__ double loss_scratch[kThreads / 32], weight_scratch[kThreads / 32];
  double l = 0.0, s = 0.0;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const double e = static_cast<double>(bce_element(to_float(x[i]), to_float(y[i])));
    if (w == nullptr) {
      l += e;
      s += 1.0;
    } else {
      const double wi = static_cast<double>(to_float(w[i]));
      l += wi * e;
      s += wi;
    }
  }
  l = warp_sum_double(l);
  s = warp_sum_double(s);
  if ((threadIdx.x & 31) == 0) {
    loss_scratch[threadIdx.x >> 5] = l;
    weight_scratch[threadIdx.x >> 5] = s;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    double tl = 0.0, ts = 0.0;
    for (int k = 0; k < kThreads / 32; ++k) {
      tl += loss_scratch[k];
      ts += weight_scratch[k];
    }
    partial[2 * blockIdx.x] = tl;
    partial[2 * blockIdx.x + 1] = ts;
  }
}

// sums[0..1] = the partials added in block order; *loss = the weighted mean.
__global__ void bce_finish_kernel(const double* __restrict__ partial, int blocks,
                                  double* __restrict__ sums, float* __restrict__ loss) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  double tl = 0.0, ts = 0.0;
  for (int b = 0; b < blocks; ++b) {
    tl += partial[2 * b];
    ts += partial[2 * b + 1];
  }
  sums[0] = tl;
  sums[1] = ts;
  if (loss != nullptr) *loss = ts != 0.0 ? static_cast<float>(tl / ts) : 0.0f;
}

template <class T>
__global__ void bce_backward_kernel(const T* __restrict__ x, const T* __restrict__ y,
                                    const T* __restrict__ w, float scale, int64_t n,
                                    T* __restrict__ d, bool accumulate) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const float xi = to_float(x[i]);
    float g = (stable_sigmoid(xi) - to_float(y[i])) * scale;
    if (w != nullptr) g *= to_float(w[i]);
    d[i] = from_float<T>(accumulate ? to_float(d[i]) + g : g);
  }
}

}  // namespace

cpu::BceSums bce_with_logits_forward(const Tensor& logits, const Tensor& targets,
                                     const Tensor& weights, const Tensor& loss) {
  const int64_t n = logits.numel();
  Tensor partial = Tensor::empty({2 * kReduceBlocks + 2}, DType::f64, Device::cuda);
  double* p = partial.data<double>();
  GRAFT_CUDA_DISPATCH_FLOAT(logits.dtype(), "bce_with_logits", [&] {
    bce_partial_kernel<scalar_t><<<kReduceBlocks, kThreads, 0, stream()>>>(
        static_cast<const scalar_t*>(logits.raw_data()),
        static_cast<const scalar_t*>(targets.raw_data()),
        weights.defined() ? static_cast<const scalar_t*>(weights.raw_data()) : nullptr, n, p);
  });
  GRAFT_CUDA_CHECK_LAUNCH();
  double* sums = p + 2 * kReduceBlocks;
  bce_finish_kernel<<<1, 32, 0, stream()>>>(p, kReduceBlocks, sums,
                                            loss.defined() ? loss.data<float>() : nullptr);
  GRAFT_CUDA_CHECK_LAUNCH();
  double host[2] = {0.0, 0.0};
  copy_bytes(host, sums, sizeof(host));
  cpu::BceSums result;
  result.loss = host[0];
  result.weight = host[1];
  return result;
}

void bce_with_logits_backward(const Tensor& logits, const Tensor& targets, const Tensor& weights,
                              double scale, const GradSlot& dlogits) {
  const int64_t n = logits.numel();
  if (n == 0) return;
  GRAFT_CUDA_DISPATCH_FLOAT(logits.dtype(), "bce_with_logits backward", [&] {
    bce_backward_kernel<scalar_t><<<grid_for(n, kThreads), kThreads, 0, stream()>>>(
        static_cast<const scalar_t*>(logits.raw_data()),
        static_cast<const scalar_t*>(targets.raw_data()),
        weights.defined() ? static_cast<const scalar_t*>(weights.raw_data()) : nullptr,
        static_cast<float>(scale), n, static_cast<scalar_t*>(dlogits.grad.raw_data()),
        dlogits.accumulate);
  });
  GRAFT_CUDA_CHECK_LAUNCH();
}

}  // namespace graft::cuda
