// rms_norm on the GPU: the shared row-norm kernels (ops/cuda/row_norm.cuh)
// without mean subtraction or bias.
#include "ops/cuda/rms_norm.h"
#include "ops/cuda/row_norm.cuh"

namespace graft::cuda {

void rms_norm_forward(const Tensor& x, const Tensor& weight, double eps, const Tensor& out,
                      const Tensor& rstd) {
  const int64_t d = x.dim(-1);
  const int64_t rows = x.numel() / d;
  GRAFT_CUDA_DISPATCH_FLOAT(x.dtype(), "rms_norm", [&] {
    row_norm::forward<scalar_t, false>(
        static_cast<const scalar_t*>(x.raw_data()), static_cast<const scalar_t*>(weight.raw_data()),
        nullptr, static_cast<float>(eps), rows, d, static_cast<scalar_t*>(out.raw_data()), nullptr,
        rstd.data<float>());
  });
}

void rms_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& rstd,
                       const Tensor& dout, const GradSlot* dx, const GradSlot* dweight) {
  const int64_t d = x.dim(-1);
  const int64_t rows = x.numel() / d;
  GRAFT_CUDA_DISPATCH_FLOAT(x.dtype(), "rms_norm backward", [&] {
    row_norm::backward<scalar_t, false>(
        static_cast<const scalar_t*>(x.raw_data()), static_cast<const scalar_t*>(weight.raw_data()),
        nullptr, rstd.data<float>(), static_cast<const scalar_t*>(dout.raw_data()), rows, d, dx,
        dweight, nullptr);
  });
}

}  // namespace graft::cuda
