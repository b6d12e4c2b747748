// CUDA kernels of ops/rotary.h (f32 and bf16), mirroring ops/cpu/rotary.h
// (same RotaryShape).
#pragma once

#include "ops/autograd.h"
#include "ops/cpu/rotary.h"

namespace graft::cuda {

void rotary_forward(const cpu::RotaryShape& s, const Tensor& x, const Tensor& out);
// dx (+)= the inverse rotation of dout.
void rotary_backward(const cpu::RotaryShape& s, const Tensor& dout, const GradSlot& dx);

}  // namespace graft::cuda
