// layer_norm on the GPU: the shared row-norm kernels (ops/cuda/row_norm.cuh)
// with mean subtraction and an optional bias.
#include "ops/cuda/layer_norm.h"
#include "ops/cuda/row_norm.cuh"

namespace graft::cuda {

void layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                        const Tensor& out, const Tensor& mean, const Tensor& rstd) {
  const int64_t d = x.dim(-1);
  const int64_t rows = x.numel() / d;
  GRAFT_CUDA_DISPATCH_FLOAT(x.dtype(), "layer_norm", [&] {
    row_norm::forward<scalar_t, true>(
        static_cast<const scalar_t*>(x.raw_data()), static_cast<const scalar_t*>(weight.raw_data()),
        bias.defined() ? static_cast<const scalar_t*>(bias.raw_data()) : nullptr,
        static_cast<float>(eps), rows, d, static_cast<scalar_t*>(out.raw_data()),
        mean.data<float>(), rstd.data<float>());
  });
}

void layer_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& rstd, const Tensor& dout, const GradSlot* dx,
                         const GradSlot* dweight, const GradSlot* dbias) {
  const int64_t d = x.dim(-1);
  const int64_t rows = x.numel() / d;
  GRAFT_CUDA_DISPATCH_FLOAT(x.dtype(), "layer_norm backward", [&] {
    row_norm::backward<scalar_t, true>(
        static_cast<const scalar_t*>(x.raw_data()), static_cast<const scalar_t*>(weight.raw_data()),
        mean.data<float>(), rstd.data<float>(), static_cast<const scalar_t*>(dout.raw_data()), rows,
        d, dx, dweight, dbias);
  });
}

}  // namespace graft::cuda
