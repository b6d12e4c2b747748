#include "ops/cross_entropy.h"

#include <cmath>

#include "ops/autograd.h"
#include "ops/cpu/cross_entropy.h"
#include "ops/cuda/cross_entropy.h"
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
}

// Runs the forward on logits' device; on CUDA the mean loss is written into
// loss (when defined) on the device.
cpu::CrossEntropyResult forward_on_device(const char* op, const Tensor& logits,
                                          const Tensor& targets, const CrossEntropyOptions& options,
                                          const Tensor& lse, const Tensor& loss,
                                          bool count_correct) {
  if (logits.device() != Device::cuda)
    return cpu::cross_entropy_forward(op, logits, targets, options, lse, count_correct);
  CrossEntropyStats stats{};
  GRAFT_ON_CUDA(
      op, logits,
      stats = cuda::cross_entropy_forward(op, logits, targets, options, lse, loss, count_correct));
  return {stats.loss_sum, stats.count, stats.correct};
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
  const bool on_cuda = logits.device() == Device::cuda;
  // The GPU keeps logsumexp and the loss in f32 whatever the logits' dtype.
  const DType stats_dtype = on_cuda ? DType::f32 : logits.dtype();
  Tensor lse = record ? Tensor::empty({targets.numel()}, stats_dtype, logits.device()) : Tensor();
  Tensor out = on_cuda ? Tensor::empty({}, DType::f32, Device::cuda) : Tensor();
  const cpu::CrossEntropyResult r =
      forward_on_device(op, logits, targets, options, lse, out, /*count_correct=*/false);
  flops_ledger().add(Phase::forward, FlopsKind::other, row_flops(r.count, vocab));
  if (!on_cuda) {
    const double mean = r.count > 0 ? r.loss_sum / static_cast<double>(r.count) : 0.0;
    out = Tensor::scalar(mean, logits.dtype());
  }

  if (record) {
    out.set_requires_grad(true);
    const int64_t count = r.count;
    tape().record(op, [logits, targets, lse, out, options, count, vocab] {
      if (!out.has_grad() || !logits.requires_grad()) return;
      const double g = out.grad().item();
      const double scale = count > 0 ? g / static_cast<double>(count) : 0.0;
      const GradSlot dlogits = grad_slot(logits);
      if (logits.device() == Device::cuda) {
        GRAFT_ON_CUDA("softmax_cross_entropy", logits,
                      cuda::cross_entropy_backward(logits, targets, lse, options, scale, dlogits));
      } else {
        cpu::cross_entropy_backward(logits, targets, lse, options, scale, dlogits);
      }
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
  const cpu::CrossEntropyResult r =
      forward_on_device("cross_entropy_stats", logits, targets, options, Tensor(), Tensor(),
                        /*count_correct=*/true);
  flops_ledger().add(Phase::forward, FlopsKind::other, row_flops(r.count, logits.dim(-1)));
  return {r.loss_sum, r.count, r.correct};
}

}  // namespace graft
