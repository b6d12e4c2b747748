#include "ops/elementwise.h"

#include <algorithm>

#include "ops/autograd.h"
#include "ops/cpu/elementwise.h"
#include "ops/cuda/elementwise.h"
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
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  if (a.device() == Device::cuda)
    GRAFT_ON_CUDA("add", a, cuda::add_forward(a, b, out));
  else
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
      const GradSlot* da_slot = want_a ? &da : nullptr;
      const GradSlot* db_slot = want_b ? &db : nullptr;
      if (out.device() == Device::cuda)
        GRAFT_ON_CUDA("add", out, cuda::add_backward(out.grad(), b.numel(), da_slot, db_slot));
      else
        cpu::add_backward(out.grad(), b.numel(), da_slot, db_slot);
      if (want_b) {
        flops_ledger().add(Phase::backward, FlopsKind::other, n - static_cast<double>(b.numel()));
      }
    });
  }
  return out;
}

Tensor scale(const Tensor& x, double alpha) {
  check_float_arg("scale", "x", x);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device() == Device::cuda)
    GRAFT_ON_CUDA("scale", x, cuda::scale_forward(x, alpha, out));
  else
    cpu::scale_forward(x, alpha, out);
  const double n = static_cast<double>(x.numel());
  flops_ledger().add(Phase::forward, FlopsKind::other, n);

  if (needs_grad({x})) {
    out.set_requires_grad(true);
    tape().record("scale", [x, alpha, out, n] {
      if (!out.has_grad() || !x.requires_grad()) return;
      if (x.device() == Device::cuda)
        GRAFT_ON_CUDA("scale", x, cuda::scale_backward(out.grad(), alpha, grad_slot(x)));
      else
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
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  if (a.device() == Device::cuda)
    GRAFT_ON_CUDA("mul", a, cuda::mul_forward(a, b, out));
  else
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
      const GradSlot* da_slot = want_a ? &da : nullptr;
      const GradSlot* db_slot = want_b ? &db : nullptr;
      if (a.device() == Device::cuda)
        GRAFT_ON_CUDA("mul", a, cuda::mul_backward(a, b, out.grad(), da_slot, db_slot));
      else
        cpu::mul_backward(a, b, out.grad(), da_slot, db_slot);
      flops_ledger().add(Phase::backward, FlopsKind::other,
                         n * (static_cast<int>(want_a) + static_cast<int>(want_b)));
    });
  }
  return out;
}

}  // namespace graft
