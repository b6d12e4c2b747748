#include "ops/cpu/tensor_math.h"

#include <cmath>

#include "ops/cpu/parallel.h"

namespace graft::cpu {

namespace {

template <class T>
void axpy_typed(T* dst, T alpha, const T* src, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelElements)
  for (int64_t i = 0; i < n; ++i)
    dst[i] += alpha * src[i];
}

template <class T>
void scale_typed(T* dst, T alpha, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelElements)
  for (int64_t i = 0; i < n; ++i)
    dst[i] *= alpha;
}

// Fixed-size chunks summed in order: the result does not depend on the number
// of threads (determinism across machines with other core counts).
template <class T>
double dot_typed(const T* a, const T* b, int64_t n) {
  const int64_t chunks = (n + kReduceChunk - 1) / kReduceChunk;
  std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
#pragma omp parallel for schedule(static) if (n > kParallelElements)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * kReduceChunk;
    const int64_t end = std::min(n, begin + kReduceChunk);
    double s = 0;
    for (int64_t i = begin; i < end; ++i)
      s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
    partial[static_cast<size_t>(c)] = s;
  }
  double total = 0;
  for (double p : partial)
    total += p;
  return total;
}

template <class T>
bool all_finite_typed(const T* x, int64_t n) {
  int bad = 0;
#pragma omp parallel for reduction(| : bad) schedule(static) if (n > kParallelElements)
  for (int64_t i = 0; i < n; ++i)
    bad |= !std::isfinite(x[i]);
  return bad == 0;
}

}  // namespace

void axpy(const Tensor& dst, double alpha, const Tensor& src) {
  if (dst.dtype() == DType::f32) {
    axpy_typed(dst.data<float>(), static_cast<float>(alpha), src.data<float>(), dst.numel());
  } else {
    axpy_typed(dst.data<double>(), alpha, src.data<double>(), dst.numel());
  }
}

void scale(const Tensor& dst, double alpha) {
  if (dst.dtype() == DType::f32) {
    scale_typed(dst.data<float>(), static_cast<float>(alpha), dst.numel());
  } else {
    scale_typed(dst.data<double>(), alpha, dst.numel());
  }
}

double dot(const Tensor& a, const Tensor& b) {
  if (a.dtype() == DType::f32) return dot_typed(a.data<float>(), b.data<float>(), a.numel());
  return dot_typed(a.data<double>(), b.data<double>(), a.numel());
}

bool all_finite(const Tensor& t) {
  if (t.dtype() == DType::f32) return all_finite_typed(t.data<float>(), t.numel());
  return all_finite_typed(t.data<double>(), t.numel());
}

}  // namespace graft::cpu
