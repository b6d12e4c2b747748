#include "ops/rms_norm.h"

#include <cmath>

#include "ops/autograd.h"
#include "ops/cpu/rms_norm.h"
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
  if (x.device() != Device::cpu) fail_unsupported_device("rms_norm", x);

  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor rstd = Tensor::empty({x.numel() / d}, x.dtype(), x.device());
  cpu::rms_norm_forward(x, weight, eps, out, rstd);
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
      cpu::rms_norm_backward(x, weight, rstd, out.grad(), want_x ? &dx : nullptr,
                             want_w ? &dw : nullptr);
      flops_ledger().add(Phase::backward, FlopsKind::other, n * (7 * want_x + 2 * want_w));
    });
  }
  return out;
}

}  // namespace graft
