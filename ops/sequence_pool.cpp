#include "ops/sequence_pool.h"

#include "ops/autograd.h"
#include "ops/cpu/sequence_pool.h"
#include "ops/cuda/sequence_pool.h"
#include "ops/flops.h"
#include "ops/op_checks.h"

namespace graft {

Tensor sequence_pool(const Tensor& x, PoolMode mode, const Tensor& mask) {
  check_float_arg("sequence_pool", "x", x);
  GRAFT_CHECK(x.ndim() == 3, "sequence_pool: x must be [B, T, D], got " << x.describe());
  GRAFT_CHECK(x.dim(1) > 0, "sequence_pool: x has no positions: " << x.describe());
  if (mask.defined()) {
    check_index_arg("sequence_pool", "mask", mask);
    check_shape_arg("sequence_pool", "mask", mask, {x.dim(0), x.dim(1)});
    GRAFT_CHECK(mask.device() == x.device(),
                "sequence_pool: mask is " << mask.describe() << " but x is " << x.describe());
  }
  Tensor out = Tensor::empty({x.dim(0), x.dim(2)}, x.dtype(), x.device());
  if (x.device() == Device::cuda)
    GRAFT_ON_CUDA("sequence_pool", x, cuda::sequence_pool_forward(x, mode, mask, out));
  else
    cpu::sequence_pool_forward(x, mode, mask, out);
  const double work = mode == PoolMode::mean ? static_cast<double>(x.numel()) : 0.0;
  flops_ledger().add(Phase::forward, FlopsKind::other, work);

  if (needs_grad({x})) {
    out.set_requires_grad(true);
    tape().record("sequence_pool", [x, mode, mask, out, work] {
      if (!out.has_grad() || !x.requires_grad()) return;
      if (x.device() == Device::cuda)
        GRAFT_ON_CUDA("sequence_pool", x,
                      cuda::sequence_pool_backward(out.grad(), mode, mask, grad_slot(x)));
      else
        cpu::sequence_pool_backward(out.grad(), mode, mask, grad_slot(x));
      flops_ledger().add(Phase::backward, FlopsKind::other, work);
    });
  }
  return out;
}

}  // namespace graft
