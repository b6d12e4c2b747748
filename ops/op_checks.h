// Argument checks shared by the ops' device-neutral front ends, so every op
// reports a bad argument the same way: "<op>: <argument> <problem>".
#pragma once

#include "ops/tensor.h"

namespace graft {

// t is defined, floating (f32/f64/bf16) and on the same device/dtype as like
// (when like is defined).
void check_float_arg(const char* op, const char* name, const Tensor& t,
                     const Tensor& like = Tensor());
// t is defined and i32.
void check_index_arg(const char* op, const char* name, const Tensor& t);
// t has exactly this shape.
void check_shape_arg(const char* op, const char* name, const Tensor& t, const Shape& expected);
// Ops dispatch on device here; CUDA kernels live in ops/cuda when built.
[[noreturn]] void fail_unsupported_device(const char* op, const Tensor& t);

}  // namespace graft
