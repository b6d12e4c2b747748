#include "ops/cross_entropy.h"

#include <cmath>

#include "ops/autograd.h"
#include "ops/cpu/cross_entropy.h"
#include "ops/flops.h"
#include "ops/op_checks.h"

namespace graft {

namespace {

void check_args(const char* op, const Tensor& logits, const Tensor& targets) {
  check_float_arg(op, "logits", logits);
  check_index_arg(op, "targets", targets);
  GRAFT_CHECK(logits.ndim() >= 1 && logits.dim(-1) > 0,
              op << ": logits must be [..., V] with V > 0, got " << logits.describe());
  check_shape_arg(op, "targets", targets, Shape(logits.shape().begin(), logits.shape().end() - 1));
  GRAFT_CHECK(targets.device() == logits.device(), op << ": targets " << targets.describe()
                                                      << " and logits " << logits.describe()
                                                      << " are on different devices");
  if (logits.device() != Device::cpu) fail_unsupported_device(op, logits);
}

double row_flops(int64_t count, int64_t vocab) {
  return 4.0 * static_cast<double>(count) * static_cast<double>(vocab);
}

}  // namespace

Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& targets,
                             const CrossEntropyOptions& options) {
  const char* op = "softmax_cross_entropy";
  check_args(op, logits, targets);
  const double eps = options.label_smoothing;
  GRAFT_CHECK(eps >= 0.0 && eps <= 1.0, op << ": label_smoothing must be in [0, 1], got " << eps);
  const int64_t vocab = logits.dim(-1);
  const bool record = needs_grad({logits});
  Tensor lse =
      record ? Tensor::empty({targets.numel()}, logits.dtype(), logits.device()) : Tensor();
  const cpu::CrossEntropyResult r = cpu::cross_entropy_forward(op, logits, targets, options, lse,
                                                               /*count_correct=*/false);
  flops_ledger().add(Phase::forward, FlopsKind::other, row_flops(r.count, vocab));
  const double mean = r.count > 0 ? r.loss_sum / static_cast<double>(r.count) : 0.0;
  Tensor out = Tensor::scalar(mean, logits.dtype());

  if (record) {
    out.set_requires_grad(true);
    const int64_t count = r.count;
    tape().record(op, [logits, targets, lse, out, options, count, vocab] {
      if (!out.has_grad() || !logits.requires_grad()) return;
      const double g = out.grad().item();
      const double scale = count > 0 ? g / static_cast<double>(count) : 0.0;
      cpu::cross_entropy_backward(logits, targets, lse, options, scale, grad_slot(logits));
      flops_ledger().add(Phase::backward, FlopsKind::other, row_flops(count, vocab));
    });
  }
  return out;
}

CrossEntropyStats cross_entropy_stats(const Tensor& logits, const Tensor& targets,
                                      int32_t ignore_index) {
  check_args("cross_entropy_stats", logits, targets);
  CrossEntropyOptions options;
  options.ignore_index = ignore_index;
  const cpu::CrossEntropyResult r = cpu::cross_entropy_forward(
      "cross_entropy_stats", logits, targets, options, Tensor(), /*count_correct=*/true);
  flops_ledger().add(Phase::forward, FlopsKind::other, row_flops(r.count, logits.dim(-1)));
  return {r.loss_sum, r.count, r.correct};
}

}  // namespace graft
