// CPU kernels of ops/elementwise.h, plus write_grad, which the other
// element-wise kernels share to fill a gradient slot.
#pragma once

#include "ops/autograd.h"
#include "ops/cpu/parallel.h"

namespace graft::cpu {

// slot.grad[i] = value(i), or += when the slot already holds a gradient. The
// branch sits outside the loop so both loops vectorise.
template <class T, class Fn>
void write_grad(const GradSlot& slot, int64_t n, Fn value) {
  T* d = slot.grad.data<T>();
  if (slot.accumulate) {
#pragma omp parallel for simd schedule(static) if (n > kParallelElements)
    for (int64_t i = 0; i < n; ++i)
      d[i] += value(i);
  } else {
#pragma omp parallel for simd schedule(static) if (n > kParallelElements)
    for (int64_t i = 0; i < n; ++i)
      d[i] = value(i);
  }
}

// out[r, j] = a[r, j] + b[j], with b.numel() columns.
void add_forward(const Tensor& a, const Tensor& b, const Tensor& out);
// da = dout; db = dout summed over rows (deterministically, cpu::sum_rows).
void add_backward(const Tensor& dout, int64_t b_numel, const GradSlot* da, const GradSlot* db);

void scale_forward(const Tensor& x, double alpha, const Tensor& out);
void scale_backward(const Tensor& dout, double alpha, const GradSlot& dx);

void mul_forward(const Tensor& a, const Tensor& b, const Tensor& out);
// da = dout * b, then db = dout * a (in that order, so mul(x, x) accumulates).
void mul_backward(const Tensor& a, const Tensor& b, const Tensor& dout, const GradSlot* da,
                  const GradSlot* db);

}  // namespace graft::cpu
