#include "ops/binary_cross_entropy.h"

#include "ops/autograd.h"
#include "ops/cpu/binary_cross_entropy.h"
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
  if (logits.device() != Device::cpu) fail_unsupported_device(op, logits);
  const cpu::BceSums sums = cpu::bce_with_logits_forward(logits, targets, weights);
  const double n = static_cast<double>(logits.numel());
  flops_ledger().add(Phase::forward, FlopsKind::other, 8.0 * n);
  const double mean = sums.weight != 0 ? sums.loss / sums.weight : 0.0;
  Tensor out = Tensor::scalar(mean, logits.dtype());

  if (needs_grad({logits})) {
    out.set_requires_grad(true);
    const double weight_sum = sums.weight;
    tape().record(op, [logits, targets, weights, out, weight_sum, n] {
      if (!out.has_grad() || !logits.requires_grad()) return;
      const double scale = weight_sum != 0 ? out.grad().item() / weight_sum : 0.0;
      cpu::bce_with_logits_backward(logits, targets, weights, scale, grad_slot(logits));
      flops_ledger().add(Phase::backward, FlopsKind::other, 4.0 * n);
    });
  }
  return out;
}

}  // namespace graft
