// CUDA kernel of ops/adamw.h: one multi-tensor launch for a list of tensors.
#pragma once

#include <vector>

#include "ops/adamw.h"

namespace graft::cuda {

// Arguments already checked by the front end: params f32 (no master) or bf16
// with an f32 master; m, v f32; grads f32 or bf16 (bf16 only with a master).
void adamw_multi_step(const std::vector<AdamWTensor>& tensors, double lr,
                      const AdamWOptions& options);

}  // namespace graft::cuda
