// Shared by the element-wise kernels (elementwise, gelu, dropout, rotary,
// sequence_pool): the grid-stride element loop and the gradient-slot store.
//
// store_grad computes in float and either replaces the slot's element or adds
// to it, with a single rounding to the storage type either way (a bf16
// gradient is rounded once, not once per term).
#pragma once

#include "ops/cuda/kernel_utils.cuh"

// for (i over [0, n)) as a grid-stride loop: any grid covers any n.
#define GRAFT_FOR_EACH_ELEMENT(i, n)                                        \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); \
       i += int64_t{gridDim.x} * blockDim.x)

namespace graft::cuda {

template <class T>
__device__ __forceinline__ void store_grad(T* grad, int64_t i, float value, bool accumulate) {
  grad[i] = from_float<T>(accumulate ? to_float(grad[i]) + value : value);
}

}  // namespace graft::cuda
