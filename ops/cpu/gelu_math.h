// GELU, tanh approximation (GPT-2, llm.c), and its derivative; shared by the
// gelu op and matmul's fused epilogue so both compute bit-identical values.
//
// float uses tanh_fast: std::tanh is a libm call GCC will not vectorise
// (without -ffast-math), and it made the FFN-up GEMM's epilogue cost more
// than the GEMM (bench/bench_gelu.cpp; docs/PERFORMANCE.md). double keeps
// std::tanh: f64 is the gradient-checking path, where exactness matters more
// than speed.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace graft::cpu {

// e^x for float in plain arithmetic (Cody-Waite range reduction and Cephes'
// degree-5 polynomial), so loops around it vectorise. Relative error about
// 2e-7 over the clamped range; inputs are clamped to [-87, 88], where 2^n
// stays a normal float.
inline float exp_fast(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  return p * std::bit_cast<float>(bits);
}

// tanh(u) = 1 - 2 / (e^{2u} + 1). Absolute error about 1e-7, which is what
// GELU's 0.5·x·(1 + tanh) needs (not relative accuracy near u = 0).
inline float tanh_fast(float u) {
  return 1.0f - 2.0f / (exp_fast(2.0f * u) + 1.0f);
}

inline float tanh_for_gelu(float u) {
  return tanh_fast(u);
}
inline double tanh_for_gelu(double u) {
  return std::tanh(u);
}

template <class T>
inline T gelu_value(T x) {
  const T c = T(0.7978845608028654);  // sqrt(2/pi)
  const T inner = c * (x + T(0.044715) * x * x * x);
  return T(0.5) * x * (T(1) + tanh_for_gelu(inner));
}

template <class T>
inline T gelu_derivative(T x) {
  const T c = T(0.7978845608028654);
  const T x2 = x * x;
  const T t = tanh_for_gelu(c * (x + T(0.044715) * x2 * x));
  return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * c * (T(1) + T(3 * 0.044715) * x2);
}

}  // namespace graft::cpu
