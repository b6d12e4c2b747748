// CPU kernel of ops/adamw.h (no backward: the optimizer is not differentiated).
#pragma once

#include "ops/adamw.h"

namespace graft::cpu {

void adamw_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                int64_t step, const AdamWOptions& options);

}  // namespace graft::cpu
