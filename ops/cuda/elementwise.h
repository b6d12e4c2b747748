// CUDA kernels of ops/elementwise.h (f32 and bf16), mirroring ops/cpu/elementwise.h.
#pragma once

#include "ops/autograd.h"

namespace graft::cuda {

// out[r, j] = a[r, j] + b[j], with b.numel() columns.
void add_forward(const Tensor& a, const Tensor& b, const Tensor& out);
// da = dout; db = dout summed over rows (fixed-order two-pass column sum).
void add_backward(const Tensor& dout, int64_t b_numel, const GradSlot* da, const GradSlot* db);

void scale_forward(const Tensor& x, double alpha, const Tensor& out);
void scale_backward(const Tensor& dout, double alpha, const GradSlot& dx);

void mul_forward(const Tensor& a, const Tensor& b, const Tensor& out);
// da = dout * b, then db = dout * a (two launches in that order, so mul(x, x)
// accumulates into one buffer as on the CPU).
void mul_backward(const Tensor& a, const Tensor& b, const Tensor& dout, const GradSlot* da,
                  const GradSlot* db);

}  // namespace graft::cuda
