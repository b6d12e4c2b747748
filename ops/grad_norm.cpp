#include "ops/grad_norm.h"

#include <cmath>

#include "ops/tensor_math.h"

namespace graft {

double global_grad_norm(const std::vector<Tensor>& grads) {
  double total = 0;
  for (size_t i = 0; i < grads.size(); ++i) {
    const Tensor& g = grads[i];
    if (!g.defined()) continue;
    GRAFT_CHECK(
        g.device() == Device::cpu && (g.dtype() == DType::f32 || g.dtype() == DType::f64),
        "global_grad_norm: grads[" << i << "] must be a CPU f32/f64 tensor, got " << g.describe());
    total += sum_of_squares(g);
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
    for (const Tensor& g : grads)
      scale_into(g, factor);
  }
  return norm;
}

}  // namespace graft
