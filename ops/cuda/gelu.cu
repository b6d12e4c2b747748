// GELU (tanh approximation, GPT-2) on the GPU: the formulas of
// ops/cpu/gelu_math.h with CUDA's tanhf in place of the CPU's tanh_fast (both
// within about 1e-7 of tanh, so f32 results agree with the CPU to ~1e-7).
// One grid-stride loop per direction; backward recomputes tanh from x rather
// than storing it.
#include "ops/cuda/gelu.h"
#include "ops/cuda/pointwise.cuh"
#include "ops/cuda/runtime.h"

namespace graft::cuda {

namespace {

constexpr int kThreads = 256;
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;

__device__ __forceinline__ float gelu_value(float x) {
  const float inner = kSqrt2OverPi * (x + kCubic * x * x * x);
  return 0.5f * x * (1.0f + tanhf(inner));
}

__device__ __forceinline__ float gelu_derivative(float x) {
  const float x2 = x * x;
  const float t = tanhf(kSqrt2OverPi * (x + kCubic * x2 * x));
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kCubic * x2);
}

template <class T>
__global__ void gelu_forward_kernel(const T* x, T* out, int64_t n) {
  GRAFT_FOR_EACH_ELEMENT(i, n) {
    out[i] = from_float<T>(gelu_value(to_float(x[i])));
  }
}

template <class T>
__global__ void gelu_backward_kernel(const T* x, const T* dout, T* dx, int64_t n, bool accumulate) {
  GRAFT_FOR_EACH_ELEMENT(i, n) {
    store_grad(dx, i, to_float(dout[i]) * gelu_derivative(to_float(x[i])), accumulate);
  }
}

}  // namespace

void gelu_forward(const Tensor& x, const Tensor& out) {
  const int64_t n = x.numel();
  GRAFT_CUDA_DISPATCH_FLOAT(x.dtype(), "gelu", [&] {
    if (n == 0) return;
    gelu_forward_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(
        static_cast<const scalar_t*>(x.raw_data()), static_cast<scalar_t*>(out.raw_data()), n);
    GRAFT_CUDA_CHECK_LAUNCH();
  });
}

void gelu_backward(const Tensor& x, const Tensor& dout, const GradSlot& dx) {
  const int64_t n = x.numel();
  GRAFT_CUDA_DISPATCH_FLOAT(x.dtype(), "gelu backward", [&] {
    if (n == 0) return;
    gelu_backward_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(
        static_cast<const scalar_t*>(x.raw_data()), static_cast<const scalar_t*>(dout.raw_data()),
        static_cast<scalar_t*>(dx.grad.raw_data()), n, dx.accumulate);
    GRAFT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace graft::cuda
