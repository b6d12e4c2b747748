#include "ops/gelu.h"

#include "ops/autograd.h"
#include "ops/cpu/gelu.h"
#include "ops/cuda/gelu.h"
#include "ops/flops.h"
#include "ops/op_checks.h"

namespace graft {

Tensor gelu(const Tensor& x) {
  check_float_arg("gelu", "x", x);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device() == Device::cuda)
    GRAFT_ON_CUDA("gelu", x, cuda::gelu_forward(x, out));
  else
    cpu::gelu_forward(x, out);
  const double n = static_cast<double>(x.numel());
  flops_ledger().add(Phase::forward, FlopsKind::other, 9 * n);

  if (needs_grad({x})) {
    out.set_requires_grad(true);
    tape().record("gelu", [x, out, n] {
      if (!out.has_grad() || !x.requires_grad()) return;
      if (x.device() == Device::cuda)
        GRAFT_ON_CUDA("gelu", x, cuda::gelu_backward(x, out.grad(), grad_slot(x)));
      else
        cpu::gelu_backward(x, out.grad(), grad_slot(x));
      flops_ledger().add(Phase::backward, FlopsKind::other, 16 * n);
    });
  }
  return out;
}

}  // namespace graft
