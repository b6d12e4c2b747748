// CUDA kernels of ops/embedding.h (ops/cuda/embedding.cu), mirroring
// ops/cpu/embedding.h. ids are i32 on the GPU; the table (and its gradient)
// f32 or bf16.
#pragma once

#include "ops/autograd.h"

namespace graft::cuda {

// Fills out [N, D] with table rows and checks every id against V on the
// device; waits for the GPU once to read the check back, and throws the CPU's
// message naming the first bad id.
void embedding_forward(const Tensor& ids, const Tensor& table, const Tensor& out);

// dtable (+)= scatter of dout [N, D] by ids, deterministic (no atomics). Copies
// the ids to the host (N ints, one synchronisation) to group positions by id.
void embedding_backward(const Tensor& ids, const Tensor& dout, const GradSlot& dtable);

}  // namespace graft::cuda
