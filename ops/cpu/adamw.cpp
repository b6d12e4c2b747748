#include "ops/cpu/adamw.h"

#include <cmath>

#include "ops/cpu/parallel.h"

namespace graft::cpu {

namespace {

template <class T>
void step_typed(const Tensor& param, const Tensor& grad, const Tensor& m_t, const Tensor& v_t,
                int64_t step, const AdamWOptions& o) {
  T* p = param.data<T>();
  const T* g = grad.data<T>();
  T* m = m_t.data<T>();
  T* v = v_t.data<T>();
  const int64_t n = param.numel();
  // Scalars in double first: 1 - beta^step loses digits in float for beta2 and
  // early steps.
  const double s = static_cast<double>(step);
  const T decay = static_cast<T>(1.0 - o.lr * o.weight_decay);
  const T b1 = static_cast<T>(o.beta1), b2 = static_cast<T>(o.beta2);
  const T c1 = static_cast<T>(1.0 - o.beta1), c2 = static_cast<T>(1.0 - o.beta2);
  const T step_size = static_cast<T>(o.lr / (1.0 - std::pow(o.beta1, s)));
  const T inv_sqrt_bc2 = static_cast<T>(1.0 / std::sqrt(1.0 - std::pow(o.beta2, s)));
  const T eps = static_cast<T>(o.eps);
#pragma omp parallel for simd schedule(static) if (n > kParallelElements)
  for (int64_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T mi = b1 * m[i] + c1 * gi;
    const T vi = b2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
  }
}

}  // namespace

void adamw_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                int64_t step, const AdamWOptions& options) {
  dispatch_float(param.dtype(), "adamw_step",
                 [&](auto zero) { step_typed<decltype(zero)>(param, grad, m, v, step, options); });
}

}  // namespace graft::cpu
