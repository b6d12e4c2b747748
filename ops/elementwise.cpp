#include "ops/elementwise.h"

#include <algorithm>

#include "ops/autograd.h"
#include "ops/cpu/elementwise.h"
#include "ops/flops.h"
#include "ops/op_checks.h"

namespace graft {

namespace {

bool is_suffix(const Shape& suffix, const Shape& shape) {
  if (suffix.size() > shape.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), shape.end() - suffix.size());
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  check_float_arg("add", "a", a);
  check_float_arg("add", "b", b, a);
  GRAFT_CHECK(is_suffix(b.shape(), a.shape()), "add: b " << b.describe() << " must match a "
                                                         << a.describe()
                                                         << " or a suffix of its shape");
  if (a.device() != Device::cpu) fail_unsupported_device("add", a);
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  cpu::add_forward(a, b, out);
  const double n = static_cast<double>(a.numel());
  flops_ledger().add(Phase::forward, FlopsKind::other, n);

  if (needs_grad({a, b})) {
    out.set_requires_grad(true);
    tape().record("add", [a, b, out, n] {
      if (!out.has_grad()) return;
      GradSlot da, db;
      const bool want_a = a.requires_grad(), want_b = b.requires_grad();
      if (want_a) da = grad_slot(a);
      if (want_b) db = grad_slot(b);
      cpu::add_backward(out.grad(), b.numel(), want_a ? &da : nullptr, want_b ? &db : nullptr);
      if (want_b) {
        flops_ledger().add(Phase::backward, FlopsKind::other, n - static_cast<double>(b.numel()));
      }
    });
  }
  return out;
}

Tensor scale(const Tensor& x, double alpha) {
  check_float_arg("scale", "x", x);
  if (x.device() != Device::cpu) fail_unsupported_device("scale", x);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  cpu::scale_forward(x, alpha, out);
  const double n = static_cast<double>(x.numel());
  flops_ledger().add(Phase::forward, FlopsKind::other, n);

  if (needs_grad({x})) {
    out.set_requires_grad(true);
    tape().record("scale", [x, alpha, out, n] {
      if (!out.has_grad() || !x.requires_grad()) return;
      cpu::scale_backward(out.grad(), alpha, grad_slot(x));
      flops_ledger().add(Phase::backward, FlopsKind::other, n);
    });
  }
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  check_float_arg("mul", "a", a);
  check_float_arg("mul", "b", b, a);
  check_shape_arg("mul", "b", b, a.shape());
  if (a.device() != Device::cpu) fail_unsupported_device("mul", a);
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  cpu::mul_forward(a, b, out);
  const double n = static_cast<double>(a.numel());
  flops_ledger().add(Phase::forward, FlopsKind::other, n);

  if (needs_grad({a, b})) {
    out.set_requires_grad(true);
    tape().record("mul", [a, b, out, n] {
      if (!out.has_grad()) return;
      GradSlot da, db;
      const bool want_a = a.requires_grad(), want_b = b.requires_grad();
      if (want_a) da = grad_slot(a);
      if (want_b) db = grad_slot(b);
      cpu::mul_backward(a, b, out.grad(), want_a ? &da : nullptr, want_b ? &db : nullptr);
      flops_ledger().add(Phase::backward, FlopsKind::other,
                         n * (static_cast<int>(want_a) + static_cast<int>(want_b)));
    });
  }
  return out;
}

}  // namespace graft
