#include "ops/cpu/elementwise.h"

namespace graft::cpu {

namespace {

template <class T>
void add_forward_typed(const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t cols = b.numel();
  const int64_t rows = cols == 0 ? 0 : a.numel() / cols;
  const T* x = a.data<T>();
  const T* y = b.data<T>();
  T* o = out.data<T>();
#pragma omp parallel for schedule(static) if (rows * cols > kParallelElements)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* orow = o + r * cols;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j)
      orow[j] = xr[j] + y[j];
  }
}

template <class T>
void add_backward_typed(const Tensor& dout, int64_t b_numel, const GradSlot* da,
                        const GradSlot* db) {
  const T* g = dout.data<T>();
  const int64_t n = dout.numel();
  if (da != nullptr) write_grad<T>(*da, n, [g](int64_t i) { return g[i]; });
  if (db != nullptr) {
    if (b_numel == n) {
      write_grad<T>(*db, n, [g](int64_t i) { return g[i]; });
    } else if (b_numel > 0) {
      sum_rows(g, n / b_numel, b_numel, db->grad.data<T>(), db->accumulate);
    }
  }
}

template <class T>
void mul_backward_typed(const Tensor& a, const Tensor& b, const Tensor& dout, const GradSlot* da,
                        const GradSlot* db) {
  const T* g = dout.data<T>();
  const T* x = a.data<T>();
  const T* y = b.data<T>();
  const int64_t n = dout.numel();
  if (da != nullptr) write_grad<T>(*da, n, [g, y](int64_t i) { return g[i] * y[i]; });
  if (db != nullptr) write_grad<T>(*db, n, [g, x](int64_t i) { return g[i] * x[i]; });
}

}  // namespace

void add_forward(const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_float(a.dtype(), "add",
                 [&](auto zero) { add_forward_typed<decltype(zero)>(a, b, out); });
}

void add_backward(const Tensor& dout, int64_t b_numel, const GradSlot* da, const GradSlot* db) {
  dispatch_float(dout.dtype(), "add backward",
                 [&](auto zero) { add_backward_typed<decltype(zero)>(dout, b_numel, da, db); });
}

void scale_forward(const Tensor& x, double alpha, const Tensor& out) {
  dispatch_float(x.dtype(), "scale", [&](auto zero) {
    using T = decltype(zero);
    const T* in = x.data<T>();
    T* o = out.data<T>();
    const T s = static_cast<T>(alpha);
    const int64_t n = x.numel();
#pragma omp parallel for simd schedule(static) if (n > kParallelElements)
    for (int64_t i = 0; i < n; ++i)
      o[i] = s * in[i];
  });
}

void scale_backward(const Tensor& dout, double alpha, const GradSlot& dx) {
  dispatch_float(dout.dtype(), "scale backward", [&](auto zero) {
    using T = decltype(zero);
    const T* g = dout.data<T>();
    const T s = static_cast<T>(alpha);
    write_grad<T>(dx, dout.numel(), [g, s](int64_t i) { return s * g[i]; });
  });
}

void mul_forward(const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_float(a.dtype(), "mul", [&](auto zero) {
    using T = decltype(zero);
    const T* x = a.data<T>();
    const T* y = b.data<T>();
    T* o = out.data<T>();
    const int64_t n = a.numel();
#pragma omp parallel for simd schedule(static) if (n > kParallelElements)
    for (int64_t i = 0; i < n; ++i)
      o[i] = x[i] * y[i];
  });
}

void mul_backward(const Tensor& a, const Tensor& b, const Tensor& dout, const GradSlot* da,
                  const GradSlot* db) {
  dispatch_float(a.dtype(), "mul backward",
                 [&](auto zero) { mul_backward_typed<decltype(zero)>(a, b, dout, da, db); });
}

}  // namespace graft::cpu
