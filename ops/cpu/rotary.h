// CPU kernels of ops/rotary.h, forward and backward side by side.
#pragma once

#include <cstdint>

#include "ops/autograd.h"

namespace graft::cpu {

struct RotaryShape {
  int64_t batch = 0, seq = 0, heads = 0, head_dim = 0;
  int64_t position_offset = 0;
  double base = 10000.0;
};

void rotary_forward(const RotaryShape& s, const Tensor& x, const Tensor& out);
// dx (+)= the inverse rotation of dout.
void rotary_backward(const RotaryShape& s, const Tensor& dout, const GradSlot& dx);

}  // namespace graft::cpu
