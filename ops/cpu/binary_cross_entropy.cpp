#include "ops/cpu/binary_cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/cpu/parallel.h"

namespace graft::cpu {

namespace {

// max(x, 0) - x·y + log1p(exp(-|x|)): exp never overflows, and for large |x|
// the log1p term underflows to 0 instead of cancelling.
template <class T>
inline T bce_element(T x, T y) {
  return std::max(x, T(0)) - x * y + std::log1p(std::exp(-std::fabs(x)));
}

// exp of -|x| only, so neither branch overflows.
template <class T>
inline T stable_sigmoid(T x) {
  const T e = std::exp(-std::fabs(x));
  return x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

// Fixed chunks, each summed in double and then added in chunk order: the same
// result for any thread count.
template <class T>
BceSums forward_typed(const Tensor& logits, const Tensor& targets, const Tensor& weights) {
  const T* x = logits.data<T>();
  const T* y = targets.data<T>();
  const T* w = weights.defined() ? weights.data<T>() : nullptr;
  const int64_t n = logits.numel();
  const int64_t chunks = (n + kReduceChunk - 1) / kReduceChunk;
  std::vector<double> loss(static_cast<size_t>(chunks)), weight(static_cast<size_t>(chunks));
#pragma omp parallel for schedule(static) if (n > kParallelElements)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * kReduceChunk, end = std::min(n, begin + kReduceChunk);
    double l = 0, s = 0;
    if (w == nullptr) {
#pragma omp simd reduction(+ : l)
      for (int64_t i = begin; i < end; ++i)
        l += static_cast<double>(bce_element(x[i], y[i]));
      s = static_cast<double>(end - begin);
    } else {
#pragma omp simd reduction(+ : l, s)
      for (int64_t i = begin; i < end; ++i) {
        l += static_cast<double>(w[i]) * static_cast<double>(bce_element(x[i], y[i]));
        s += static_cast<double>(w[i]);
      }
    }
    loss[static_cast<size_t>(c)] = l;
    weight[static_cast<size_t>(c)] = s;
  }
  BceSums sums;
  for (int64_t c = 0; c < chunks; ++c) {
    sums.loss += loss[static_cast<size_t>(c)];
    sums.weight += weight[static_cast<size_t>(c)];
  }
  return sums;
}

template <class T>
void backward_typed(const Tensor& logits, const Tensor& targets, const Tensor& weights,
                    double scale, const GradSlot& dlogits) {
  const T* x = logits.data<T>();
  const T* y = targets.data<T>();
  const T* w = weights.defined() ? weights.data<T>() : nullptr;
  T* d = dlogits.grad.data<T>();
  const int64_t n = logits.numel();
  const T s = static_cast<T>(scale);
  if (dlogits.accumulate) {
#pragma omp parallel for simd schedule(static) if (n > kParallelElements)
    for (int64_t i = 0; i < n; ++i) {
      d[i] += (stable_sigmoid(x[i]) - y[i]) * (w != nullptr ? w[i] : T(1)) * s;
    }
  } else {
#pragma omp parallel for simd schedule(static) if (n > kParallelElements)
    for (int64_t i = 0; i < n; ++i) {
      d[i] = (stable_sigmoid(x[i]) - y[i]) * (w != nullptr ? w[i] : T(1)) * s;
    }
  }
}

}  // namespace

BceSums bce_with_logits_forward(const Tensor& logits, const Tensor& targets,
                                const Tensor& weights) {
  BceSums sums;
  dispatch_float(logits.dtype(), "bce_with_logits", [&](auto zero) {
    sums = forward_typed<decltype(zero)>(logits, targets, weights);
  });
  return sums;
}

void bce_with_logits_backward(const Tensor& logits, const Tensor& targets, const Tensor& weights,
                              double scale, const GradSlot& dlogits) {
  dispatch_float(logits.dtype(), "bce_with_logits backward", [&](auto zero) {
    backward_typed<decltype(zero)>(logits, targets, weights, scale, dlogits);
  });
}

}  // namespace graft::cpu
