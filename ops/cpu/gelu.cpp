#include "ops/cpu/gelu.h"

#include "ops/cpu/elementwise.h"
#include "ops/cpu/gelu_math.h"
#include "ops/cpu/parallel.h"

namespace graft::cpu {

void gelu_forward(const Tensor& x, const Tensor& out) {
  dispatch_float(x.dtype(), "gelu", [&](auto zero) {
    using T = decltype(zero);
    const T* in = x.data<T>();
    T* o = out.data<T>();
    const int64_t n = x.numel();
#pragma omp parallel for simd schedule(static) if (n > kParallelElements)
    for (int64_t i = 0; i < n; ++i)
      o[i] = gelu_value(in[i]);
  });
}

void gelu_backward(const Tensor& x, const Tensor& dout, const GradSlot& dx) {
  dispatch_float(x.dtype(), "gelu backward", [&](auto zero) {
    using T = decltype(zero);
    const T* in = x.data<T>();
    const T* g = dout.data<T>();
    write_grad<T>(dx, x.numel(), [in, g](int64_t i) { return g[i] * gelu_derivative(in[i]); });
  });
}

}  // namespace graft::cpu
