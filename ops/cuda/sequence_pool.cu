// Sequence pooling (first token, or masked mean) on the GPU.
//
// Both modes are a weighted sum over positions with weights w[b, t] (1 at
// t = 0 for first_token; 1/count at real tokens for mean, 0 at padding and
// for sequences without real tokens), as on the CPU. A first kernel computes
// w in f32 (one block per sequence counts its real tokens); forward has one
// thread per output (b, j) summing over t in order (deterministic, no
// atomics); backward is element-wise: dx[b, t, j] = w[b, t]·dout[b, j]. With
// accumulate, positions of weight 0 are left untouched, as the CPU does.
#include "ops/cuda/pointwise.cuh"
#include "ops/cuda/runtime.h"
#include "ops/cuda/sequence_pool.h"

namespace graft::cuda {

namespace {

constexpr int kThreads = 256;

// One block per sequence b; mask may be null (all tokens real).
__global__ void pool_weights_kernel(const int32_t* mask, int64_t len, bool mean, float* weights) {
  __shared__ float scratch[32];
  const int64_t b = blockIdx.x;
  float* w = weights + b * len;
  if (!mean) {
    for (int64_t t = threadIdx.x; t < len; t += blockDim.x)
      w[t] = t == 0 ? 1.0f : 0.0f;
    return;
  }
  const int32_t* m = mask == nullptr ? nullptr : mask + b * len;
  float count = 0.0f;  // exact: counts stay far below 2^24
  for (int64_t t = threadIdx.x; t < len; t += blockDim.x)
    count += (m == nullptr || m[t] != 0) ? 1.0f : 0.0f;
  count = block_sum(count, scratch);
  const float share = count > 0.0f ? 1.0f / count : 0.0f;
  for (int64_t t = threadIdx.x; t < len; t += blockDim.x)
    w[t] = (m == nullptr || m[t] != 0) ? share : 0.0f;
}

template <class T>
__global__ void pool_forward_kernel(const T* x, const float* weights, T* out, int64_t batch,
                                    int64_t len, int64_t dim) {
  GRAFT_FOR_EACH_ELEMENT(k, batch * dim) {
    const int64_t b = k / dim, j = k % dim;
    const float* w = weights + b * len;
    const T* src = x + b * len * dim + j;
    float sum = 0.0f;
    for (int64_t t = 0; t < len; ++t) {
      if (w[t] != 0.0f) sum += w[t] * to_float(src[t * dim]);
    }
    out[k] = from_float<T>(sum);
  }
}

template <class T>
__global__ void pool_backward_kernel(const T* dout, const float* weights, T* dx, int64_t batch,
                                     int64_t len, int64_t dim, bool accumulate) {
  GRAFT_FOR_EACH_ELEMENT(k, batch * len * dim) {
    const int64_t bt = k / dim, j = k % dim, b = bt / len;
    const float w = weights[bt];
    if (accumulate && w == 0.0f) continue;
    store_grad(dx, k, w * to_float(dout[b * dim + j]), accumulate);
  }
}

Tensor pool_weights(PoolMode mode, const Tensor& mask, int64_t batch, int64_t len) {
  Tensor weights = Tensor::empty({batch, len}, DType::f32, Device::cuda);
  pool_weights_kernel<<<static_cast<unsigned>(batch), kThreads, 0, stream()>>>(
      mask.defined() ? mask.data<int32_t>() : nullptr, len, mode == PoolMode::mean,
      weights.data<float>());
  GRAFT_CUDA_CHECK_LAUNCH();
  return weights;
}

}  // namespace

void sequence_pool_forward(const Tensor& x, PoolMode mode, const Tensor& mask, const Tensor& out) {
  const int64_t batch = x.dim(0), len = x.dim(1), dim = x.dim(2);
  GRAFT_CUDA_DISPATCH_FLOAT(x.dtype(), "sequence_pool", [&] {
    if (batch == 0 || len == 0 || dim == 0) return;
    const Tensor weights = pool_weights(mode, mask, batch, len);
    pool_forward_kernel<<<grid_for(batch * dim, kThreads), kThreads, 0, stream()>>>(
        static_cast<const scalar_t*>(x.raw_data()), weights.data<float>(),
        static_cast<scalar_t*>(out.raw_data()), batch, len, dim);
    GRAFT_CUDA_CHECK_LAUNCH();
  });
}

void sequence_pool_backward(const Tensor& dout, PoolMode mode, const Tensor& mask,
                            const GradSlot& dx) {
  const int64_t batch = dx.grad.dim(0), len = dx.grad.dim(1), dim = dx.grad.dim(2);
  GRAFT_CUDA_DISPATCH_FLOAT(dx.grad.dtype(), "sequence_pool backward", [&] {
    if (batch == 0 || len == 0 || dim == 0) return;
    const Tensor weights = pool_weights(mode, mask, batch, len);
    pool_backward_kernel<<<grid_for(batch * len * dim, kThreads), kThreads, 0, stream()>>>(
        static_cast<const scalar_t*>(dout.raw_data()), weights.data<float>(),
        static_cast<scalar_t*>(dx.grad.raw_data()), batch, len, dim, dx.accumulate);
    GRAFT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace graft::cuda
