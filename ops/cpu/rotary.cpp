#include "ops/cpu/rotary.h"

#include <cmath>
#include <vector>

#include "ops/cpu/parallel.h"

namespace graft::cpu {

namespace {

// cos and sin of every (t, i) angle, [seq, head_dim / 2] each, shared by all
// batches and heads.
template <class T>
struct AngleTable {
  std::vector<T> cos, sin;

  explicit AngleTable(const RotaryShape& s) {
    const int64_t half = s.head_dim / 2;
    cos.resize(static_cast<size_t>(s.seq * half));
    sin.resize(cos.size());
    for (int64_t t = 0; t < s.seq; ++t) {
      const double pos = static_cast<double>(s.position_offset + t);
      for (int64_t i = 0; i < half; ++i) {
        const double angle =
            pos * std::pow(s.base, -2.0 * static_cast<double>(i) / static_cast<double>(s.head_dim));
        cos[t * half + i] = static_cast<T>(std::cos(angle));
        sin[t * half + i] = static_cast<T>(std::sin(angle));
      }
    }
  }
};

// Rotates every head of src by +angle (direction 1) or -angle (direction -1)
// into dst, overwriting or adding.
template <class T, bool kAccumulate>
void rotate(const RotaryShape& s, const T* src, T* dst, T direction) {
  const AngleTable<T> table(s);
  const int64_t half = s.head_dim / 2;
  const int64_t rows = s.batch * s.seq * s.heads;
#pragma omp parallel for schedule(static) if (rows * s.head_dim > kParallelElements)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = (r / s.heads) % s.seq;
    const T* c = table.cos.data() + t * half;
    const T* sn = table.sin.data() + t * half;
    const T* x1 = src + r * s.head_dim;
    const T* x2 = x1 + half;
    T* y1 = dst + r * s.head_dim;
    T* y2 = y1 + half;
#pragma omp simd
    for (int64_t i = 0; i < half; ++i) {
      const T sin_i = direction * sn[i];
      const T a = x1[i] * c[i] - x2[i] * sin_i;
      const T b = x2[i] * c[i] + x1[i] * sin_i;
      if constexpr (kAccumulate) {
        y1[i] += a;
        y2[i] += b;
      } else {
        y1[i] = a;
        y2[i] = b;
      }
    }
  }
}

}  // namespace

void rotary_forward(const RotaryShape& s, const Tensor& x, const Tensor& out) {
  dispatch_float(x.dtype(), "rotary_embedding", [&](auto zero) {
    using T = decltype(zero);
    rotate<T, false>(s, x.data<T>(), out.data<T>(), T(1));
  });
}

void rotary_backward(const RotaryShape& s, const Tensor& dout, const GradSlot& dx) {
  dispatch_float(dout.dtype(), "rotary_embedding backward", [&](auto zero) {
    using T = decltype(zero);
    if (dx.accumulate) {
      rotate<T, true>(s, dout.data<T>(), dx.grad.data<T>(), T(-1));
    } else {
      rotate<T, false>(s, dout.data<T>(), dx.grad.data<T>(), T(-1));
    }
  });
}

}  // namespace graft::cpu
