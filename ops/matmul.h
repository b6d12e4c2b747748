// matmul: out = epilogue(op(a) @ op(b) + bias), with op = transpose when asked.
//
//   a: [..., K] (leading dims flattened into M), or [K, M] when transpose_a
//      (then 2-D only); b: [K, N], or [N, K] when transpose_b;
//   bias: [N] or undefined; out: a's leading dims + [N] (or [M, N]).
// Epilogue::gelu fuses GELU (tanh form) after the bias; backward recovers the
// pre-activation it kept. FLOPs: 2*M*N*K forward; backward 2*M*N*K per
// gradient actually computed (none for a frozen operand).
#pragma once

#include "ops/tensor.h"

namespace graft {

enum class Epilogue { none, gelu };

struct MatmulOptions {
  bool transpose_a = false;
  bool transpose_b = false;
  Epilogue epilogue = Epilogue::none;
};

Tensor matmul(const Tensor& a, const Tensor& b, const Tensor& bias = Tensor(),
              MatmulOptions options = {});

// torch.nn.Linear: x [..., in] @ weight[out, in]^T + bias[out], optional GELU.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              Epilogue epilogue = Epilogue::none);

}  // namespace graft

namespace graft {

// The GEMM geometry an op resolved from its operands, handed to the kernels.
struct MatmulShape {
  int64_t m = 0, n = 0, k = 0;
  bool transpose_a = false, transpose_b = false;
};

}  // namespace graft
