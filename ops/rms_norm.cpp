#include "ops/rms_norm.h"

#include <cmath>

#include "ops/autograd.h"
#include "ops/cpu/rms_norm.h"
#include "ops/cuda/rms_norm.h"
#include "ops/flops.h"
#include "ops/op_checks.h"

namespace graft {

Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps) {
  check_float_arg("rms_norm", "x", x);
  GRAFT_CHECK(x.ndim() >= 1 && x.dim(-1) > 0,
              "rms_norm: x must have a non-empty last dim, got " << x.describe());
  const int64_t d = x.dim(-1);
  check_float_arg("rms_norm", "weight", weight, x);
  check_shape_arg("rms_norm", "weight", weight, {d});
  GRAFT_CHECK(std::isfinite(eps) && eps >= 0, "rms_norm: eps must be >= 0, got " << eps);

  const bool on_cuda = x.device() == Device::cuda;
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  // The GPU keeps rstd in f32 whatever x's dtype.
  Tensor rstd = Tensor::empty({x.numel() / d}, on_cuda ? DType::f32 : x.dtype(), x.device());
  if (on_cuda) {
    GRAFT_ON_CUDA("rms_norm", x, cuda::rms_norm_forward(x, weight, eps, out, rstd));
  } else {
    cpu::rms_norm_forward(x, weight, eps, out, rstd);
  }
  const double n = static_cast<double>(x.numel());
  flops_ledger().add(Phase::forward, FlopsKind::other, 4 * n);

  if (needs_grad({x, weight})) {
    out.set_requires_grad(true);
    tape().record("rms_norm", [x, weight, rstd, out, n] {
      if (!out.has_grad()) return;
      GradSlot dx, dw;
      const bool want_x = x.requires_grad(), want_w = weight.requires_grad();
      if (want_x) dx = grad_slot(x);
      if (want_w) dw = grad_slot(weight);
      const GradSlot* dx_slot = want_x ? &dx : nullptr;
      const GradSlot* dw_slot = want_w ? &dw : nullptr;
      if (x.device() == Device::cuda) {
        GRAFT_ON_CUDA("rms_norm", x,
                      cuda::rms_norm_backward(x, weight, rstd, out.grad(), dx_slot, dw_slot));
      } else {
        cpu::rms_norm_backward(x, weight, rstd, out.grad(), dx_slot, dw_slot);
      }
      flops_ledger().add(Phase::backward, FlopsKind::other, n * (7 * want_x + 2 * want_w));
    });
  }
  return out;
}

}  // namespace graft
