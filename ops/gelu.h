// gelu: GELU, tanh approximation (GPT-2), element-wise; the same math as
// matmul's fused epilogue (ops/cpu/gelu_math.h), so both agree bit for bit.
//
//   x: any shape, f32/f64 on the CPU, f32/bf16 on CUDA; out: x's shape.
// FLOPs (FlopsKind::other), N = x.numel(), tanh counted as one: forward 9 per
// element; backward 16 per element (the derivative and the product with dout).
#pragma once

#include "ops/tensor.h"

namespace graft {

Tensor gelu(const Tensor& x);

}  // namespace graft
