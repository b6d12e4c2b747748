#include "ops/grad_norm.h"

#include <cmath>

#include "ops/cuda/grad_norm.h"
#include "ops/op_checks.h"
#include "ops/tensor_math.h"

namespace graft {

namespace {

// The device of the list's defined entries (CPU for none); every defined
// entry must be on it with a dtype its kernels take: CPU f32/f64, CUDA f32/bf16.
Device check_grads(const std::vector<Tensor>& grads) {
  const Tensor* first = nullptr;
  for (const Tensor& g : grads) {
    if (g.defined()) {
      first = &g;
      break;
    }
  }
  const Device device = first == nullptr ? Device::cpu : first->device();
  for (size_t i = 0; i < grads.size(); ++i) {
    const Tensor& g = grads[i];
    if (!g.defined()) continue;
    if (device == Device::cpu) {
      GRAFT_CHECK(g.device() == Device::cpu && (g.dtype() == DType::f32 || g.dtype() == DType::f64),
                  "global_grad_norm: grads[" << i << "] must be a CPU f32/f64 tensor, got "
                                             << g.describe());
    } else {
      GRAFT_CHECK(
          g.device() == Device::cuda && (g.dtype() == DType::f32 || g.dtype() == DType::bf16),
          "global_grad_norm: grads[" << i << "] must be a CUDA f32/bf16 tensor like grads "
                                     << "before it, got " << g.describe());
    }
  }
  return device;
}

}  // namespace

double global_grad_norm(const std::vector<Tensor>& grads) {
  if (check_grads(grads) == Device::cuda) {
    // One multi-tensor reduction and one host sync for the whole list.
    GRAFT_ON_CUDA("global_grad_norm", grads.front(), return std::sqrt(cuda::sum_of_squares(grads)));
  }
  double total = 0;
  for (const Tensor& g : grads) {
    if (g.defined()) total += sum_of_squares(g);
  }
  return std::sqrt(total);
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  GRAFT_CHECK(max_norm > 0 && std::isfinite(max_norm),
              "clip_grad_norm: max_norm must be finite and > 0, got " << max_norm);
  std::vector<Tensor> grads;
  grads.reserve(params.size());
  for (const Tensor& p : params) {
    if (p.defined() && p.has_grad()) grads.push_back(p.grad());
  }
  const double norm = global_grad_norm(grads);
  if (std::isfinite(norm) && norm > max_norm) {
    const double factor = max_norm / (norm + 1e-6);
    if (!grads.empty() && grads.front().device() == Device::cuda) {
      GRAFT_ON_CUDA("clip_grad_norm", grads.front(), cuda::scale_all(grads, factor));
    } else {
      for (const Tensor& g : grads)
        scale_into(g, factor);
    }
  }
  return norm;
}

}  // namespace graft
