// Kernels behind Tensor's own device operations: fill and dtype conversion.
#include <cuda_bf16.h>

#include "ops/cuda/kernel_utils.cuh"
#include "ops/cuda/runtime.h"

namespace graft::cuda {

namespace {

template <class T>
__global__ void fill_kernel(T* out, int64_t n, T value) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x)
    out[i] = value;
}

template <class T>
void launch_fill(const Tensor& t, T value) {
  const int64_t n = t.numel();
  if (n == 0) return;
  fill_kernel<<<grid_for(n, 256), 256, 0, stream()>>>(static_cast<T*>(t.raw_data()), n, value);
  GRAFT_CUDA_CHECK_LAUNCH();
}

// Conversion through double keeps i32 and f32 exact; bf16 rounds to nearest
// even like float_to_bf16 on the host.
template <class T>
__device__ __forceinline__ double load_double(const T* p, int64_t i) {
  return static_cast<double>(p[i]);
}
template <>
__device__ __forceinline__ double load_double<__nv_bfloat16>(const __nv_bfloat16* p, int64_t i) {
  return static_cast<double>(__bfloat162float(p[i]));
}
template <class T>
__device__ __forceinline__ void store_double(T* p, int64_t i, double v) {
  p[i] = static_cast<T>(v);
}
template <>
__device__ __forceinline__ void store_double<int32_t>(int32_t* p, int64_t i, double v) {
  p[i] = static_cast<int32_t>(llrint(v));
}
template <>
__device__ __forceinline__ void store_double<__nv_bfloat16>(__nv_bfloat16* p, int64_t i, double v) {
  p[i] = __float2bfloat16_rn(static_cast<float>(v));
}

template <class S, class D>
__global__ void cast_kernel(const S* src, D* dst, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x)
    store_double(dst, i, load_double(src, i));
}

template <class S, class D>
void launch_cast(const Tensor& src, const Tensor& dst) {
  const int64_t n = src.numel();
  if (n == 0) return;
  cast_kernel<<<grid_for(n, 256), 256, 0, stream()>>>(static_cast<const S*>(src.raw_data()),
                                                      static_cast<D*>(dst.raw_data()), n);
  GRAFT_CUDA_CHECK_LAUNCH();
}

template <class S>
void cast_from(const Tensor& src, const Tensor& dst) {
  switch (dst.dtype()) {
    case DType::f32:
      return launch_cast<S, float>(src, dst);
    case DType::f64:
      return launch_cast<S, double>(src, dst);
    case DType::i32:
      return launch_cast<S, int32_t>(src, dst);
    case DType::bf16:
      return launch_cast<S, __nv_bfloat16>(src, dst);
  }
}

}  // namespace

void fill(const Tensor& t, double value) {
  switch (t.dtype()) {
    case DType::f32:
      return launch_fill<float>(t, static_cast<float>(value));
    case DType::f64:
      return launch_fill<double>(t, value);
    case DType::i32:
      return launch_fill<int32_t>(t, static_cast<int32_t>(value));
    case DType::bf16:
      return launch_fill<__nv_bfloat16>(t, __float2bfloat16_rn(static_cast<float>(value)));
  }
}

void cast(const Tensor& src, const Tensor& dst) {
  GRAFT_CHECK(
      src.numel() == dst.numel() && src.device() == Device::cuda && dst.device() == Device::cuda,
      "cast " << src.describe() << " to " << dst.describe());
  switch (src.dtype()) {
    case DType::f32:
      return cast_from<float>(src, dst);
    case DType::f64:
      return cast_from<double>(src, dst);
    case DType::i32:
      return cast_from<int32_t>(src, dst);
    case DType::bf16:
      return cast_from<__nv_bfloat16>(src, dst);
  }
}

}  // namespace graft::cuda
