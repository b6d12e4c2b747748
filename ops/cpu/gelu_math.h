// GELU, tanh approximation (GPT-2, llm.c), and its derivative; shared by the
// gelu op and matmul's fused epilogue so both compute bit-identical values.
#pragma once

#include <cmath>

namespace graft::cpu {

template <class T>
inline T gelu_value(T x) {
  const T c = T(0.7978845608028654);  // sqrt(2/pi)
  const T inner = c * (x + T(0.044715) * x * x * x);
  return T(0.5) * x * (T(1) + std::tanh(inner));
}

template <class T>
inline T gelu_derivative(T x) {
  const T c = T(0.7978845608028654);
  const T x2 = x * x;
  const T t = std::tanh(c * (x + T(0.044715) * x2 * x));
  return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * c * (T(1) + T(3 * 0.044715) * x2);
}

}  // namespace graft::cpu
