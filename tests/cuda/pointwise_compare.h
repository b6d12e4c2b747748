// Shared by the CUDA tests of the element-wise ops (elementwise, gelu,
// dropout, rotary, sequence_pool): run an op and its backward once on the CPU
// in f32 and once on the GPU in f32 or bf16 from the same inputs and upstream
// gradient, and compare outputs, every input gradient and the FLOPs ledger.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ops/autograd.h"
#include "ops/flops.h"
#include "tests/support/cuda_compare.h"
#include "tests/support/gradcheck.h"

namespace graft::testing {

using Op = std::function<Tensor(const std::vector<Tensor>&)>;

struct OpRun {
  Tensor out;
  std::vector<Tensor> grads;  // one per input
  FlopsLedger ledger;         // what the op and its backward counted
};

// inputs and upstream are CPU f32; on CUDA they are uploaded as dtype. Every
// input requires a gradient.
inline OpRun run_op(const Op& op, const std::vector<Tensor>& inputs, const Tensor& upstream,
                    Device device, DType dtype) {
  flops_ledger().reset();
  std::vector<Tensor> xs;
  for (const Tensor& x : inputs) {
    Tensor t = device == Device::cpu ? x.clone() : to_gpu(x, dtype);
    xs.push_back(t.set_requires_grad());
  }
  Tensor out = op(xs);
  tape().backward(out, device == Device::cpu ? upstream : to_gpu(upstream, dtype));
  OpRun r{out, {}, flops_ledger()};
  for (const Tensor& x : xs)
    r.grads.push_back(x.grad());
  return r;
}

// Random inputs of `shapes` in [lo, hi) (bf16-representable for bf16), the
// op on both devices, compared with 1e-5 (f32) or 1e-2 (bf16).
inline void expect_op_matches_cpu(const Op& op, const std::vector<Shape>& shapes,
                                  const Shape& out_shape, DType dtype, const std::string& what,
                                  uint64_t seed = 1, double lo = -1.0, double hi = 1.0) {
  const bool bf16 = dtype == DType::bf16;
  const double tolerance = bf16 ? 1e-2 : 1e-5;
  std::mt19937_64 rng(seed);
  std::vector<Tensor> inputs;
  for (const Shape& s : shapes)
    inputs.push_back(random_f32(s, rng, lo, hi, bf16));
  const Tensor upstream = random_f32(out_shape, rng, -1.0, 1.0, bf16);
  const OpRun cpu = run_op(op, inputs, upstream, Device::cpu, DType::f32);
  const OpRun gpu = run_op(op, inputs, upstream, Device::cuda, dtype);
  const std::string label = what + " " + dtype_name(dtype);
  EXPECT_EQ(gpu.out.device(), Device::cuda) << label;
  EXPECT_EQ(gpu.out.dtype(), dtype) << label;
  expect_relative_error_below(gpu.out, cpu.out, tolerance, label + " forward");
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_TRUE(gpu.grads[i].defined()) << label;
    EXPECT_EQ(gpu.grads[i].dtype(), dtype) << label;
    expect_relative_error_below(gpu.grads[i], cpu.grads[i], tolerance,
                                label + " grad " + std::to_string(i));
  }
  EXPECT_EQ(gpu.ledger.forward().other, cpu.ledger.forward().other) << label;
  EXPECT_EQ(gpu.ledger.backward().other, cpu.ledger.backward().other) << label;
}

// Runs forward + backward on the GPU twice on the same input tensors (f32)
// and checks that every gradient exactly doubled.
inline void expect_backward_twice_doubles(const Op& op, const std::vector<Shape>& shapes,
                                          const Shape& out_shape, uint64_t seed = 2) {
  std::mt19937_64 rng(seed);
  std::vector<Tensor> xs;
  for (const Shape& s : shapes)
    xs.push_back(to_gpu(random_f32(s, rng), DType::f32).set_requires_grad());
  const Tensor up = to_gpu(random_f32(out_shape, rng), DType::f32);
  tape().backward(op(xs), up);
  std::vector<std::vector<double>> first;
  for (const Tensor& x : xs)
    first.push_back(as_doubles(x.grad().to(Device::cpu)));
  tape().backward(op(xs), up);
  for (size_t i = 0; i < xs.size(); ++i) {
    std::vector<double> doubled = first[i];
    for (double& v : doubled)
      v *= 2;
    EXPECT_EQ(as_doubles(xs[i].grad().to(Device::cpu)), doubled) << "input " << i;
  }
}

// Two GPU runs from the same inputs give bit-identical outputs and gradients.
inline void expect_bit_identical_reruns(const Op& op, const std::vector<Shape>& shapes,
                                        const Shape& out_shape, DType dtype, uint64_t seed = 3) {
  std::mt19937_64 rng(seed);
  std::vector<Tensor> inputs;
  for (const Shape& s : shapes)
    inputs.push_back(random_f32(s, rng));
  const Tensor up = random_f32(out_shape, rng);
  const OpRun a = run_op(op, inputs, up, Device::cuda, dtype);
  const OpRun b = run_op(op, inputs, up, Device::cuda, dtype);
  EXPECT_EQ(as_doubles(to_cpu_f32(a.out)), as_doubles(to_cpu_f32(b.out)));
  for (size_t i = 0; i < inputs.size(); ++i)
    EXPECT_EQ(as_doubles(to_cpu_f32(a.grads[i])), as_doubles(to_cpu_f32(b.grads[i])));
}

}  // namespace graft::testing
