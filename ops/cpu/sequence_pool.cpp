#include "ops/cpu/sequence_pool.h"

#include <algorithm>

#include "ops/cpu/parallel.h"

namespace graft::cpu {

namespace {

// Weight of position t of sequence b in the pool: 1/count for real tokens
// under mean, 1 for t == 0 under first_token, 0 otherwise.
template <class T>
std::vector<T> pool_weights(PoolMode mode, const Tensor& mask, int64_t batch, int64_t len) {
  std::vector<T> w(static_cast<size_t>(batch * len), T(0));
  const int32_t* m = mask.defined() ? mask.data<int32_t>() : nullptr;
  for (int64_t b = 0; b < batch; ++b) {
    T* row = w.data() + b * len;
    if (mode == PoolMode::first_token) {
      if (len > 0) row[0] = T(1);
      continue;
    }
    int64_t count = 0;
    for (int64_t t = 0; t < len; ++t)
      count += (!m || m[b * len + t] != 0) ? 1 : 0;
    if (count == 0) continue;
    for (int64_t t = 0; t < len; ++t) {
      if (!m || m[b * len + t] != 0) row[t] = T(1) / static_cast<T>(count);
    }
  }
  return w;
}

template <class T>
void forward_typed(const Tensor& x, PoolMode mode, const Tensor& mask, const Tensor& out) {
  const int64_t batch = x.dim(0), len = x.dim(1), d = x.dim(2);
  const std::vector<T> w = pool_weights<T>(mode, mask, batch, len);
  const T* xv = x.data<T>();
  T* o = out.data<T>();
#pragma omp parallel for schedule(static) if (batch * len * d > kParallelElements)
  for (int64_t b = 0; b < batch; ++b) {
    T* dst = o + b * d;
    std::fill(dst, dst + d, T(0));
    for (int64_t t = 0; t < len; ++t) {
      const T wt = w[b * len + t];
      if (wt == T(0)) continue;
      const T* src = xv + (b * len + t) * d;
#pragma omp simd
      for (int64_t j = 0; j < d; ++j)
        dst[j] += wt * src[j];
    }
  }
}

template <class T>
void backward_typed(const Tensor& dout, PoolMode mode, const Tensor& mask, const GradSlot& dx) {
  const int64_t batch = dx.grad.dim(0), len = dx.grad.dim(1), d = dx.grad.dim(2);
  const std::vector<T> w = pool_weights<T>(mode, mask, batch, len);
  const T* g = dout.data<T>();
  T* dxv = dx.grad.data<T>();
#pragma omp parallel for schedule(static) if (batch * len * d > kParallelElements)
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = 0; t < len; ++t) {
      const T wt = w[b * len + t];
      T* dst = dxv + (b * len + t) * d;
      const T* src = g + b * d;
      if (dx.accumulate) {
        if (wt == T(0)) continue;
#pragma omp simd
        for (int64_t j = 0; j < d; ++j)
          dst[j] += wt * src[j];
      } else {
#pragma omp simd
        for (int64_t j = 0; j < d; ++j)
          dst[j] = wt * src[j];
      }
    }
  }
}

}  // namespace

void sequence_pool_forward(const Tensor& x, PoolMode mode, const Tensor& mask, const Tensor& out) {
  dispatch_float(x.dtype(), "sequence_pool",
                 [&](auto zero) { forward_typed<decltype(zero)>(x, mode, mask, out); });
}

void sequence_pool_backward(const Tensor& dout, PoolMode mode, const Tensor& mask,
                            const GradSlot& dx) {
  dispatch_float(dx.grad.dtype(), "sequence_pool backward",
                 [&](auto zero) { backward_typed<decltype(zero)>(dout, mode, mask, dx); });
}

}  // namespace graft::cpu
