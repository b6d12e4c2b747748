#include "ops/layer_norm.h"

#include <cmath>

#include "ops/autograd.h"
#include "ops/cpu/layer_norm.h"
#include "ops/cuda/layer_norm.h"
#include "ops/flops.h"
#include "ops/op_checks.h"

namespace graft {

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  check_float_arg("layer_norm", "x", x);
  GRAFT_CHECK(x.ndim() >= 1 && x.dim(-1) > 0,
              "layer_norm: x must have a non-empty last dim, got " << x.describe());
  const int64_t d = x.dim(-1);
  check_float_arg("layer_norm", "weight", weight, x);
  check_shape_arg("layer_norm", "weight", weight, {d});
  if (bias.defined()) {
    check_float_arg("layer_norm", "bias", bias, x);
    check_shape_arg("layer_norm", "bias", bias, {d});
  }
  GRAFT_CHECK(std::isfinite(eps) && eps >= 0, "layer_norm: eps must be >= 0, got " << eps);

  const int64_t rows = x.numel() / d;
  const bool on_cuda = x.device() == Device::cuda;
  // The GPU keeps statistics in f32 whatever x's dtype (bf16 would lose them).
  const DType stats_dtype = on_cuda ? DType::f32 : x.dtype();
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = Tensor::empty({rows}, stats_dtype, x.device());
  Tensor rstd = Tensor::empty({rows}, stats_dtype, x.device());
  if (on_cuda) {
    GRAFT_ON_CUDA("layer_norm", x, cuda::layer_norm_forward(x, weight, bias, eps, out, mean, rstd));
  } else {
    cpu::layer_norm_forward(x, weight, bias, eps, out, mean, rstd);
  }
  const double n = static_cast<double>(x.numel());
  flops_ledger().add(Phase::forward, FlopsKind::other, (bias.defined() ? 8 : 7) * n);

  if (needs_grad({x, weight, bias})) {
    out.set_requires_grad(true);
    tape().record("layer_norm", [x, weight, bias, mean, rstd, out, n] {
      if (!out.has_grad()) return;
      GradSlot dx, dw, db;
      const bool want_x = x.requires_grad(), want_w = weight.requires_grad();
      const bool want_b = bias.defined() && bias.requires_grad();
      if (want_x) dx = grad_slot(x);
      if (want_w) dw = grad_slot(weight);
      if (want_b) db = grad_slot(bias);
      const GradSlot* dx_slot = want_x ? &dx : nullptr;
      const GradSlot* dw_slot = want_w ? &dw : nullptr;
      const GradSlot* db_slot = want_b ? &db : nullptr;
      if (x.device() == Device::cuda) {
        GRAFT_ON_CUDA("layer_norm", x,
                      cuda::layer_norm_backward(x, weight, mean, rstd, out.grad(), dx_slot, dw_slot,
                                                db_slot));
      } else {
        cpu::layer_norm_backward(x, weight, mean, rstd, out.grad(), dx_slot, dw_slot, db_slot);
      }
      flops_ledger().add(Phase::backward, FlopsKind::other,
                         n * (10 * want_x + 2 * want_w + 1 * want_b));
    });
  }
  return out;
}

}  // namespace graft
