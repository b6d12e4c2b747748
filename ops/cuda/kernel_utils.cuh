// Device-side helpers shared by the backend's kernels: element loads and
// stores that compute in float whatever the storage type, and block-wide
// reductions. Kernels are templated on the storage type T (float or
// __nv_bfloat16); arithmetic is float, accumulation of long sums float or
// double as each kernel documents.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cfloat>

#include "ops/check.h"
#include "ops/dtype.h"
#include "ops/tensor.h"

namespace graft::cuda {

__device__ __forceinline__ float to_float(float x) {
  return x;
}
__device__ __forceinline__ float to_float(__nv_bfloat16 x) {
  return __bfloat162float(x);
}
template <class T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

// Sum over the block; every thread gets the result. blockDim.x must be a
// multiple of 32 and at most 1024; `scratch` holds 32 floats.
__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : 0.0f;
  return warp_sum(v);
}
__device__ __forceinline__ float block_max(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = blockDim.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : -FLT_MAX;
  return warp_max(v);
}

}  // namespace graft::cuda

// Calls body with `scalar_t` bound to the CUDA storage type of a float tensor
// (f32 -> float, bf16 -> __nv_bfloat16); other dtypes throw naming op.
#define GRAFT_CUDA_DISPATCH_FLOAT(dtype, op, ...)                                        \
  [&] {                                                                                  \
    switch (dtype) {                                                                     \
      case ::graft::DType::f32: {                                                        \
        using scalar_t = float;                                                          \
        return __VA_ARGS__();                                                            \
      }                                                                                  \
      case ::graft::DType::bf16: {                                                       \
        using scalar_t = __nv_bfloat16;                                                  \
        return __VA_ARGS__();                                                            \
      }                                                                                  \
      default:                                                                           \
        throw ::graft::Error(std::string(op) + ": CUDA kernels take f32 or bf16, not " + \
                             ::graft::dtype_name(dtype));                                \
    }                                                                                    \
  }()
