#include "ops/dropout.h"

#include "ops/autograd.h"
#include "ops/cpu/dropout.h"
#include "ops/cuda/dropout.h"
#include "ops/flops.h"
#include "ops/op_checks.h"

namespace graft {

Tensor dropout(const Tensor& x, double p, uint64_t seed, bool training, int64_t first_index) {
  check_float_arg("dropout", "x", x);
  // Written so that NaN fails too.
  GRAFT_CHECK(p >= 0 && p < 1, "dropout: p must be in [0, 1), got " << p);
  GRAFT_CHECK(first_index >= 0, "dropout: first_index must be >= 0, got " << first_index);
  if (p == 0 || !training) return x;
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device() == Device::cuda)
    GRAFT_ON_CUDA("dropout", x, cuda::dropout_forward(x, p, seed, first_index, out));
  else
    cpu::dropout_forward(x, p, seed, first_index, out);
  const double n = static_cast<double>(x.numel());
  flops_ledger().add(Phase::forward, FlopsKind::other, n);

  if (needs_grad({x})) {
    out.set_requires_grad(true);
    tape().record("dropout", [x, p, seed, first_index, out, n] {
      if (!out.has_grad() || !x.requires_grad()) return;
      if (x.device() == Device::cuda)
        GRAFT_ON_CUDA("dropout", x,
                      cuda::dropout_backward(out.grad(), p, seed, first_index, grad_slot(x)));
      else
        cpu::dropout_backward(out.grad(), p, seed, first_index, grad_slot(x));
      flops_ledger().add(Phase::backward, FlopsKind::other, n);
    });
  }
  return out;
}

}  // namespace graft
