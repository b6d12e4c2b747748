// Shared constants and helpers for the CPU kernels' OpenMP loops.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ops/check.h"
#include "ops/dtype.h"

namespace graft::cpu {

// Below this many elements a loop runs on one thread: forking costs more.
constexpr int64_t kParallelElements = 1 << 15;
// Reductions sum fixed chunks of this size, then the chunks in order, so the
// result is the same for any thread count.
constexpr int64_t kReduceChunk = 4096;
// Row-block size for column reductions (bias gradients).
constexpr int64_t kRowBlock = 64;

// Calls fn(T{}) with T = float or double for a floating dtype; other dtypes are
// an error naming the op.
template <class Fn>
void dispatch_float(DType dtype, const char* op, Fn&& fn) {
  if (dtype == DType::f32) {
    fn(float{});
  } else if (dtype == DType::f64) {
    fn(double{});
  } else {
    GRAFT_CHECK(false, op << " on CPU takes f32 or f64, not " << dtype_name(dtype));
  }
}

// out[j] (+)= sum over rows of x[rows, cols], deterministic for any thread count.
template <class T>
void sum_rows(const T* x, int64_t rows, int64_t cols, T* out, bool accumulate) {
  const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
  std::vector<T> partial(static_cast<size_t>(blocks * cols));
#pragma omp parallel for schedule(static) if (rows * cols > kParallelElements)
  for (int64_t b = 0; b < blocks; ++b) {
    T* p = partial.data() + b * cols;
    std::fill(p, p + cols, T(0));
    const int64_t end = std::min(rows, (b + 1) * kRowBlock);
    for (int64_t r = b * kRowBlock; r < end; ++r) {
      const T* row = x + r * cols;
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j)
        p[j] += row[j];
    }
  }
#pragma omp parallel for schedule(static) if (blocks * cols > kParallelElements)
  for (int64_t j = 0; j < cols; ++j) {
    T s = accumulate ? out[j] : T(0);
    for (int64_t b = 0; b < blocks; ++b)
      s += partial[b * cols + j];
    out[j] = s;
  }
}

}  // namespace graft::cpu
