#include "ops/cuda/kernel_utils.cuh"
#include "ops/cuda/runtime.h"
#include "ops/cuda/tensor_math.h"

namespace graft::cuda {

namespace {

constexpr int kThreads = 256;
// A fixed block count for reductions: the partial sums, and so the rounding,
// depend only on n, never on the GPU or timing.
constexpr int kReduceBlocks = 256;

template <class T>
__global__ void axpy_kernel(T* dst, float alpha, const T* src, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x)
    dst[i] = from_float<T>(to_float(dst[i]) + alpha * to_float(src[i]));
}

template <class T>
__global__ void scale_kernel(T* dst, float alpha, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x)
    dst[i] = from_float<T>(alpha * to_float(dst[i]));
}

__device__ __forceinline__ double warp_sum_double(double v) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// partial[block] = Σ a·b over the block's grid-stride share, in double.
template <class T>
__global__ void dot_partial_kernel(const T* a, const T* b, int64_t n, double* partial) {
  __shared__ double scratch[kThreads / 32];
  double sum = 0;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x)
    sum += static_cast<double>(to_float(a[i])) * static_cast<double>(to_float(b[i]));
  sum = warp_sum_double(sum);
  if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = sum;
  __syncthreads();
  if (threadIdx.x == 0) {
    double total = 0;
    for (int w = 0; w < kThreads / 32; ++w)
      total += scratch[w];
    partial[blockIdx.x] = total;
  }
}

__global__ void sum_partials_kernel(const double* partial, int count, double* out) {
  if (threadIdx.x == 0 && blockIdx.x == 0) {
    double total = 0;
    for (int i = 0; i < count; ++i)
      total += partial[i];
    *out = total;
  }
}

template <class T>
__global__ void nonfinite_kernel(const T* t, int64_t n, int* flag) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x)
    if (!isfinite(to_float(t[i]))) *flag = 1;  // any writer: all write the same value
}

}  // namespace

void axpy(const Tensor& dst, double alpha, const Tensor& src) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  GRAFT_CUDA_DISPATCH_FLOAT(dst.dtype(), "axpy_into", [&] {
    axpy_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(
        static_cast<scalar_t*>(dst.raw_data()), static_cast<float>(alpha),
        static_cast<const scalar_t*>(src.raw_data()), n);
  });
  GRAFT_CUDA_CHECK_LAUNCH();
}

void scale(const Tensor& dst, double alpha) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  GRAFT_CUDA_DISPATCH_FLOAT(dst.dtype(), "scale_into", [&] {
    scale_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(
        static_cast<scalar_t*>(dst.raw_data()), static_cast<float>(alpha), n);
  });
  GRAFT_CUDA_CHECK_LAUNCH();
}

double dot(const Tensor& a, const Tensor& b) {
  const int64_t n = a.numel();
  if (n == 0) return 0.0;
  Tensor partial = Tensor::empty({kReduceBlocks + 1}, DType::f64, Device::cuda);
  double* p = partial.data<double>();
  GRAFT_CUDA_DISPATCH_FLOAT(a.dtype(), "dot", [&] {
    dot_partial_kernel<<<kReduceBlocks, kThreads, 0, stream()>>>(
        static_cast<const scalar_t*>(a.raw_data()), static_cast<const scalar_t*>(b.raw_data()), n,
        p);
  });
  GRAFT_CUDA_CHECK_LAUNCH();
  sum_partials_kernel<<<1, 32, 0, stream()>>>(p, kReduceBlocks, p + kReduceBlocks);
  GRAFT_CUDA_CHECK_LAUNCH();
  double result = 0;
  copy_bytes(&result, p + kReduceBlocks, sizeof(double));
  return result;
}

bool all_finite(const Tensor& t) {
  const int64_t n = t.numel();
  if (n == 0) return true;
  Tensor flag = Tensor::zeros({1}, DType::i32, Device::cuda);
  GRAFT_CUDA_DISPATCH_FLOAT(t.dtype(), "all_finite", [&] {
    nonfinite_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(
        static_cast<const scalar_t*>(t.raw_data()), n, flag.data<int32_t>());
  });
  GRAFT_CUDA_CHECK_LAUNCH();
  return flag.item() == 0;
}

}  // namespace graft::cuda
