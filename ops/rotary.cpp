#include "ops/rotary.h"

#include <cmath>

#include "ops/autograd.h"
#include "ops/cpu/rotary.h"
#include "ops/cuda/rotary.h"
#include "ops/flops.h"
#include "ops/op_checks.h"

namespace graft {

Tensor rotary_embedding(const Tensor& x, int64_t num_heads, int64_t position_offset, double base) {
  check_float_arg("rotary_embedding", "x", x);
  GRAFT_CHECK(x.ndim() == 3, "rotary_embedding: x must be [B, T, H*Dh], got " << x.describe());
  GRAFT_CHECK(num_heads > 0 && x.dim(2) % num_heads == 0,
              "rotary_embedding: num_heads " << num_heads << " must be positive and divide x's "
                                             << "last dim, x is " << x.describe());
  cpu::RotaryShape s;
  s.batch = x.dim(0);
  s.seq = x.dim(1);
  s.heads = num_heads;
  s.head_dim = x.dim(2) / num_heads;
  s.position_offset = position_offset;
  s.base = base;
  GRAFT_CHECK(s.head_dim % 2 == 0, "rotary_embedding: head dim "
                                       << s.head_dim << " must be even, x is " << x.describe());
  GRAFT_CHECK(position_offset >= 0,
              "rotary_embedding: position_offset must be >= 0, got " << position_offset);
  GRAFT_CHECK(std::isfinite(base) && base > 0,
              "rotary_embedding: base must be positive, got " << base);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device() == Device::cuda)
    GRAFT_ON_CUDA("rotary_embedding", x, cuda::rotary_forward(s, x, out));
  else
    cpu::rotary_forward(s, x, out);
  const double n = static_cast<double>(x.numel());
  flops_ledger().add(Phase::forward, FlopsKind::other, 3 * n);

  if (needs_grad({x})) {
    out.set_requires_grad(true);
    tape().record("rotary_embedding", [s, x, out, n] {
      if (!out.has_grad() || !x.requires_grad()) return;
      if (x.device() == Device::cuda)
        GRAFT_ON_CUDA("rotary_embedding", x, cuda::rotary_backward(s, out.grad(), grad_slot(x)));
      else
        cpu::rotary_backward(s, out.grad(), grad_slot(x));
      flops_ledger().add(Phase::backward, FlopsKind::other, 3 * n);
    });
  }
  return out;
}

}  // namespace graft
