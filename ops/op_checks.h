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

// GRAFT_ON_CUDA(op, t, call): the CUDA branch of an op's dispatch,
//   if (x.device() == Device::cuda) GRAFT_ON_CUDA("matmul", x, cuda::...(...));
//   else cpu::...(...);
// In a build without CUDA the call is compiled out (its kernels do not exist)
// and the op fails naming itself; no such tensor can exist there anyway.
#if GRAFT_CUDA
#define GRAFT_ON_CUDA(op, t, ...) __VA_ARGS__
#else
#define GRAFT_ON_CUDA(op, t, ...) ::graft::fail_unsupported_device(op, t)
#endif

namespace graft {}  // namespace graft
