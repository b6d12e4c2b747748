#include "ops/layer_norm.h"

#include <cmath>

#include "ops/autograd.h"
#include "ops/cpu/layer_norm.h"
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
  if (x.device() != Device::cpu) fail_unsupported_device("layer_norm", x);

  const int64_t rows = x.numel() / d;
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = Tensor::empty({rows}, x.dtype(), x.device());
  Tensor rstd = Tensor::empty({rows}, x.dtype(), x.device());
  cpu::layer_norm_forward(x, weight, bias, eps, out, mean, rstd);
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
      cpu::layer_norm_backward(x, weight, mean, rstd, out.grad(), want_x ? &dx : nullptr,
                               want_w ? &dw : nullptr, want_b ? &db : nullptr);
      flops_ledger().add(Phase::backward, FlopsKind::other,
                         n * (10 * want_x + 2 * want_w + 1 * want_b));
    });
  }
  return out;
}

}  // namespace graft
