#include "ops/cpu/layer_norm.h"

#include <cmath>

#include "ops/cpu/parallel.h"

namespace graft::cpu {

namespace {

template <class T>
void forward_typed(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                   const Tensor& out, const Tensor& mean, const Tensor& rstd) {
  const int64_t d = x.dim(-1);
  const int64_t rows = x.numel() / d;
  const T* in = x.data<T>();
  const T* w = weight.data<T>();
  const T* b = bias.defined() ? bias.data<T>() : nullptr;
  T* o = out.data<T>();
  T* mean_out = mean.data<T>();
  T* rstd_out = rstd.data<T>();
  const T inv_d = T(1) / static_cast<T>(d);
#pragma omp parallel for schedule(static) if (rows * d > kParallelElements)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = in + r * d;
    T* orow = o + r * d;
    T sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < d; ++j)
      sum += xr[j];
    const T mu = sum * inv_d;
    // Two passes: the centred sum of squares does not cancel catastrophically.
    T sq = 0;
#pragma omp simd reduction(+ : sq)
    for (int64_t j = 0; j < d; ++j)
      sq += (xr[j] - mu) * (xr[j] - mu);
    const T rs = T(1) / std::sqrt(sq * inv_d + static_cast<T>(eps));
    mean_out[r] = mu;
    rstd_out[r] = rs;
    if (b != nullptr) {
#pragma omp simd
      for (int64_t j = 0; j < d; ++j)
        orow[j] = (xr[j] - mu) * rs * w[j] + b[j];
    } else {
#pragma omp simd
      for (int64_t j = 0; j < d; ++j)
        orow[j] = (xr[j] - mu) * rs * w[j];
    }
  }
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dout * weight.
// dweight and dbias sum over rows through a [rows, d] scratch and sum_rows, so
// they do not depend on the thread count.
template <class T>
void backward_typed(const Tensor& x, const Tensor& weight, const Tensor& mean, const Tensor& rstd,
                    const Tensor& dout, const GradSlot* dx, const GradSlot* dweight,
                    const GradSlot* dbias) {
  const int64_t d = x.dim(-1);
  const int64_t rows = x.numel() / d;
  const T* in = x.data<T>();
  const T* w = weight.data<T>();
  const T* mu = mean.data<T>();
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
    const T m = mu[r], s = rs[r];
    if (gx != nullptr) {
      T* gxr = gx + r * d;
#pragma omp simd
      for (int64_t j = 0; j < d; ++j)
        gxr[j] = gr[j] * (xr[j] - m) * s;
    }
    if (dxp == nullptr) continue;
    T sum_g = 0, sum_gx = 0;
#pragma omp simd reduction(+ : sum_g, sum_gx)
    for (int64_t j = 0; j < d; ++j) {
      const T gw = gr[j] * w[j];
      sum_g += gw;
      sum_gx += gw * (xr[j] - m) * s;
    }
    const T mean_g = sum_g * inv_d, mean_gx = sum_gx * inv_d;
    T* dr = dxp + r * d;
    if (dx_acc) {
#pragma omp simd
      for (int64_t j = 0; j < d; ++j) {
        dr[j] += s * (gr[j] * w[j] - mean_g - (xr[j] - m) * s * mean_gx);
      }
    } else {
#pragma omp simd
      for (int64_t j = 0; j < d; ++j) {
        dr[j] = s * (gr[j] * w[j] - mean_g - (xr[j] - m) * s * mean_gx);
      }
    }
  }
  if (dweight != nullptr) sum_rows(gx, rows, d, dweight->grad.data<T>(), dweight->accumulate);
  if (dbias != nullptr) sum_rows(g, rows, d, dbias->grad.data<T>(), dbias->accumulate);
}

}  // namespace

void layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                        const Tensor& out, const Tensor& mean, const Tensor& rstd) {
  dispatch_float(x.dtype(), "layer_norm", [&](auto zero) {
    forward_typed<decltype(zero)>(x, weight, bias, eps, out, mean, rstd);
  });
}

void layer_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& rstd, const Tensor& dout, const GradSlot* dx,
                         const GradSlot* dweight, const GradSlot* dbias) {
  dispatch_float(x.dtype(), "layer_norm backward", [&](auto zero) {
    backward_typed<decltype(zero)>(x, weight, mean, rstd, dout, dx, dweight, dbias);
  });
}

}  // namespace graft::cpu
