#include "ops/attention.h"

#include <cmath>

#include "ops/autograd.h"
#include "ops/cpu/attention.h"
#include "ops/cuda/attention.h"
#include "ops/flops.h"
#include "ops/op_checks.h"

namespace graft {

namespace {

constexpr const char* kOp = "scaled_dot_product_attention";

// Softmax work per score element, charged to FlopsKind::other: forward max,
// subtract, exp, sum and normalise; backward product and sum for the row dot
// with P, then subtract and multiply to form dS.
constexpr double kSoftmaxForwardFlops = 5;
constexpr double kSoftmaxBackwardFlops = 4;

AttentionShape resolve_shape(const Tensor& q, const Tensor& k, const Tensor& v,
                             const AttentionOptions& o) {
  GRAFT_CHECK(q.ndim() == 3 && k.ndim() == 3 && v.ndim() == 3,
              kOp << ": q, k and v must be [B, T, H*Dh], got " << q.describe() << ", "
                  << k.describe() << " and " << v.describe());
  GRAFT_CHECK(o.num_heads >= 1, kOp << ": num_heads must be positive, got " << o.num_heads);
  const int64_t e = q.dim(2);
  GRAFT_CHECK(e > 0 && e % o.num_heads == 0, kOp << ": num_heads " << o.num_heads
                                                 << " does not divide q's last dim, q is "
                                                 << q.describe());
  GRAFT_CHECK(k.dim(0) == q.dim(0) && k.dim(2) == e, kOp << ": k " << k.describe()
                                                         << " does not match q " << q.describe()
                                                         << " in batch and width");
  check_shape_arg(kOp, "v", v, k.shape());
  AttentionShape s;
  s.batch = q.dim(0);
  s.q_len = q.dim(1);
  s.k_len = k.dim(1);
  s.heads = o.num_heads;
  s.head_dim = e / o.num_heads;
  s.causal = o.causal;
  GRAFT_CHECK(std::isfinite(o.scale), kOp << ": scale must be finite, got " << o.scale);
  s.scale = o.scale != 0.0 ? o.scale : 1.0 / std::sqrt(static_cast<double>(s.head_dim));
  if (o.key_padding_mask.defined()) {
    check_index_arg(kOp, "key_padding_mask", o.key_padding_mask);
    check_shape_arg(kOp, "key_padding_mask", o.key_padding_mask, {s.batch, s.k_len});
    GRAFT_CHECK(o.key_padding_mask.device() == q.device(), kOp << ": key_padding_mask is "
                                                               << o.key_padding_mask.describe()
                                                               << " but q is " << q.describe());
  }
  return s;
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const AttentionOptions& options) {
  check_float_arg(kOp, "q", q);
  check_float_arg(kOp, "k", k, q);
  check_float_arg(kOp, "v", v, q);
  const AttentionShape s = resolve_shape(q, k, v, options);
  const bool record = needs_grad({q, k, v});

  Tensor out = Tensor::empty(q.shape(), q.dtype(), q.device());
  const bool on_cuda = q.device() == Device::cuda;
  if (!on_cuda && q.device() != Device::cpu) fail_unsupported_device(kOp, q);
  // Backward needs the probabilities on the CPU; without it they stay in
  // per-thread scratch and the [B, H, Tq, Tk] buffer is never allocated. The
  // CUDA kernels recompute them from the row logsumexp [B, H, Tq] instead.
  Tensor probs = record && !on_cuda
                     ? Tensor::empty({s.batch, s.heads, s.q_len, s.k_len}, q.dtype(), q.device())
                     : Tensor();
  Tensor lse = record && on_cuda
                   ? Tensor::empty({s.batch, s.heads, s.q_len}, DType::f32, q.device())
                   : Tensor();
  const Tensor mask = options.key_padding_mask;
  if (on_cuda) {
    GRAFT_ON_CUDA(kOp, q, cuda::attention_forward(s, q, k, v, mask, lse, out));
  } else {
    cpu::attention_forward(s, q, k, v, mask, probs, out);
  }
  const double one_product = gemm_flops(s.batch * s.heads * s.q_len, s.k_len, s.head_dim);
  flops_ledger().add(Phase::forward, FlopsKind::attention, 2 * one_product);
  flops_ledger().add(Phase::forward, FlopsKind::other,
                     kSoftmaxForwardFlops * static_cast<double>(s.scores()));

  if (record) {
    out.set_requires_grad(true);
    tape().record(kOp, [s, q, k, v, mask, probs, lse, out, one_product] {
      if (!out.has_grad()) return;
      // Slots are taken in the kernel's write order (q, k, v) so that when
      // operands alias, only the first one written can be a fresh slot.
      GradSlot dq, dk, dv;
      const bool want_q = q.requires_grad(), want_k = k.requires_grad();
      const bool want_v = v.requires_grad();
      if (want_q) dq = grad_slot(q);
      if (want_k) dk = grad_slot(k);
      if (want_v) dv = grad_slot(v);
      const GradSlot* dq_ptr = want_q ? &dq : nullptr;
      const GradSlot* dk_ptr = want_k ? &dk : nullptr;
      const GradSlot* dv_ptr = want_v ? &dv : nullptr;
      if (q.device() == Device::cuda) {
        GRAFT_ON_CUDA(kOp, q,
                      cuda::attention_backward(s, q, k, v, mask, out, lse, out.grad(), dq_ptr,
                                               dk_ptr, dv_ptr));
      } else {
        cpu::attention_backward(s, q, k, v, probs, out.grad(), dq_ptr, dk_ptr, dv_ptr);
      }
      // dP feeds only dQ and dK, so a v-only backward skips it.
      const bool need_ds = want_q || want_k;
      const int products = static_cast<int>(need_ds) + static_cast<int>(want_q) +
                           static_cast<int>(want_k) + static_cast<int>(want_v);
      flops_ledger().add(Phase::backward, FlopsKind::attention, products * one_product);
      if (need_ds) {
        flops_ledger().add(Phase::backward, FlopsKind::other,
                           kSoftmaxBackwardFlops * static_cast<double>(s.scores()));
      }
    });
  }
  return out;
}

}  // namespace graft
