#include "ops/cpu/rms_norm.h"

#include <cmath>

#include "ops/cpu/parallel.h"

namespace graft::cpu {

namespace {

template <class T>
void forward_typed(const Tensor& x, const Tensor& weight, double eps, const Tensor& out,
                   const Tensor& rstd) {
  const int64_t d = x.dim(-1);
  const int64_t rows = x.numel() / d;
  const T* in = x.data<T>();
  const T* w = weight.data<T>();
  T* o = out.data<T>();
  T* rstd_out = rstd.data<T>();
  const T inv_d = T(1) / static_cast<T>(d);
#pragma omp parallel for schedule(static) if (rows * d > kParallelElements)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = in + r * d;
    T* orow = o + r * d;
    T sq = 0;
#pragma omp simd reduction(+ : sq)
    for (int64_t j = 0; j < d; ++j)
      sq += xr[j] * xr[j];
    const T rs = T(1) / std::sqrt(sq * inv_d + static_cast<T>(eps));
    rstd_out[r] = rs;
#pragma omp simd
    for (int64_t j = 0; j < d; ++j)
      orow[j] = xr[j] * rs * w[j];
  }
}

// dx = rstd * (g - xhat * mean(g * xhat)), g = dout * weight, xhat = x * rstd.
// dweight sums over rows through a [rows, d] scratch and sum_rows, so it does
// not depend on the thread count.
template <class T>
void backward_typed(const Tensor& x, const Tensor& weight, const Tensor& rstd, const Tensor& dout,
                    const GradSlot* dx, const GradSlot* dweight) {
  const int64_t d = x.dim(-1);
  const int64_t rows = x.numel() / d;
  const T* in = x.data<T>();
  const T* w = weight.data<T>();
  const T* rs = rstd.data<T>();
  const T* g = dout.data<T>();
  const T inv_d = T(1) / static_cast<T>(d);
  T* dxp = dx != nullptr ? dx->grad.data<T>() : nullptr;
  const bool dx_acc = dx != nullptr && dx->accumulate;
  Tensor gx_scratch = dweight != nullptr ? Tensor::empty({rows, d}, x.dtype()) : Tensor();
  T* gx = dweight != nullptr ? gx_scratch.data<T>() : nullptr;
#pragma omp parallel for schedule(static) if (rows * d > kParallelElements)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = in + r * d;
    const T* gr = g + r * d;
    const T s = rs[r];
    if (gx != nullptr) {
      T* gxr = gx + r * d;
#pragma omp simd
      for (int64_t j = 0; j < d; ++j)
        gxr[j] = gr[j] * xr[j] * s;
    }
    if (dxp == nullptr) continue;
    T sum_gx = 0;
#pragma omp simd reduction(+ : sum_gx)
    for (int64_t j = 0; j < d; ++j)
      sum_gx += gr[j] * w[j] * xr[j] * s;
    const T mean_gx = sum_gx * inv_d;
    T* dr = dxp + r * d;
    if (dx_acc) {
#pragma omp simd
      for (int64_t j = 0; j < d; ++j)
        dr[j] += s * (gr[j] * w[j] - xr[j] * s * mean_gx);
    } else {
#pragma omp simd
      for (int64_t j = 0; j < d; ++j)
        dr[j] = s * (gr[j] * w[j] - xr[j] * s * mean_gx);
    }
  }
  if (dweight != nullptr) sum_rows(gx, rows, d, dweight->grad.data<T>(), dweight->accumulate);
}

}  // namespace

void rms_norm_forward(const Tensor& x, const Tensor& weight, double eps, const Tensor& out,
                      const Tensor& rstd) {
  dispatch_float(x.dtype(), "rms_norm",
                 [&](auto zero) { forward_typed<decltype(zero)>(x, weight, eps, out, rstd); });
}

void rms_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& rstd,
                       const Tensor& dout, const GradSlot* dx, const GradSlot* dweight) {
  dispatch_float(x.dtype(), "rms_norm backward", [&](auto zero) {
    backward_typed<decltype(zero)>(x, weight, rstd, dout, dx, dweight);
  });
}

}  // namespace graft::cpu
