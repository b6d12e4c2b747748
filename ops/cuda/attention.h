// CUDA kernels of ops/attention.h, forward and backward (flash-style: the
// [Tq, Tk] score matrix never exists in device memory).
//
// Forward saves the row logsumexp lse [B, H, Tq] f32 (natural log of the
// masked softmax denominator, +inf for a query row with no visible key)
// instead of the CPU's probabilities; backward recomputes P from it.
#pragma once

#include "ops/attention.h"
#include "ops/autograd.h"

namespace graft::cuda {

// out = softmax(scale * Q K^T + masks) V per (batch, head), f32 or bf16.
// lse, when defined, receives the row logsumexp for backward. mask may be
// undefined.
void attention_forward(const AttentionShape& s, const Tensor& q, const Tensor& k, const Tensor& v,
                       const Tensor& mask, const Tensor& lse, const Tensor& out);

// Gradients for the operands whose slot pointer is non-null, from the
// forward's out and lse. dQ is written (all of it) before dK, and dK before
// dV, so slots shared by aliased operands work as on the CPU.
void attention_backward(const AttentionShape& s, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& mask, const Tensor& out, const Tensor& lse,
                        const Tensor& dout, const GradSlot* dq, const GradSlot* dk,
                        const GradSlot* dv);

// Which kernels run. automatic: the tensor-core kernels for bf16 with head_dim
// 64 or 128 on sm_80 and newer, the general kernels otherwise. general: always
// the general kernels (tests and benchmarks compare the two).
enum class AttentionKernels { automatic, general };
void set_attention_kernels(AttentionKernels choice);
AttentionKernels attention_kernels();
// True when a call with this shape and dtype would run the tensor-core kernels.
bool attention_uses_tensor_cores(const AttentionShape& s, DType dtype);

}  // namespace graft::cuda
