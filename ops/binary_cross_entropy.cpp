#include "ops/binary_cross_entropy.h"

#include "ops/autograd.h"
#include "ops/cpu/binary_cross_entropy.h"
#include "ops/cuda/binary_cross_entropy.h"
#include "ops/flops.h"
#include "ops/op_checks.h"

namespace graft {

Tensor bce_with_logits(const Tensor& logits, const Tensor& targets, const Tensor& weights) {
  const char* op = "bce_with_logits";
  check_float_arg(op, "logits", logits);
  check_float_arg(op, "targets", targets, logits);
  check_shape_arg(op, "targets", targets, logits.shape());
  if (weights.defined()) {
    check_float_arg(op, "weights", weights, logits);
    check_shape_arg(op, "weights", weights, logits.shape());
  }
  const bool on_cuda = logits.device() == Device::cuda;
  cpu::BceSums sums;
  Tensor out;
  if (on_cuda) {
    // The GPU writes the mean into an f32 scalar whatever the logits' dtype.
    out = Tensor::empty({}, DType::f32, Device::cuda);
    GRAFT_ON_CUDA(op, logits, sums = cuda::bce_with_logits_forward(logits, targets, weights, out));
  } else {
    sums = cpu::bce_with_logits_forward(logits, targets, weights);
    const double mean = sums.weight != 0 ? sums.loss / sums.weight : 0.0;
    out = Tensor::scalar(mean, logits.dtype());
  }
  const double n = static_cast<double>(logits.numel());
  flops_ledger().add(Phase::forward, FlopsKind::other, 8.0 * n);

  if (needs_grad({logits})) {
    out.set_requires_grad(true);
    const double weight_sum = sums.weight;
    tape().record(op, [logits, targets, weights, out, weight_sum, n] {
      if (!out.has_grad() || !logits.requires_grad()) return;
      const double scale = weight_sum != 0 ? out.grad().item() / weight_sum : 0.0;
      const GradSlot dlogits = grad_slot(logits);
      if (logits.device() == Device::cuda) {
        GRAFT_ON_CUDA("bce_with_logits", logits,
                      cuda::bce_with_logits_backward(logits, targets, weights, scale, dlogits));
      } else {
        cpu::bce_with_logits_backward(logits, targets, weights, scale, dlogits);
      }
      flops_ledger().add(Phase::backward, FlopsKind::other, 4.0 * n);
    });
  }
  return out;
}

}  // namespace graft
