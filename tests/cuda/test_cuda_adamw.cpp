// AdamW on the GPU: adamw_step and adamw_multi_step (f32) against the CPU
// after several steps, the bf16-param / f32-master path against an f32
// reference run, and argument errors.
#include "ops/adamw.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/support/cuda_compare.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::random_f32;

AdamWOptions test_options() {
  AdamWOptions o;
  o.lr = 3e-2;
  o.beta1 = 0.8;
  o.beta2 = 0.95;
  o.eps = 1e-6;
  o.weight_decay = 0.1;
  return o;
}

struct State {
  Tensor p, m, v;
};

State make_state(const Shape& shape, std::mt19937_64& rng, Device device) {
  const Tensor p = random_f32(shape, rng);
  return {p.to(device), Tensor::zeros(shape, DType::f32, device),
          Tensor::zeros(shape, DType::f32, device)};
}

TEST(CudaAdamW, StepMatchesCpuAfterSeveralSteps) {
  GRAFT_REQUIRE_GPU();
  const AdamWOptions o = test_options();
  for (const Shape& shape : std::vector<Shape>{{1}, {7, 13}, {4097}, {1000003}}) {
    std::mt19937_64 rng_cpu(1), rng_gpu(1);
    State cpu = make_state(shape, rng_cpu, Device::cpu);
    State gpu = make_state(shape, rng_gpu, Device::cuda);
    for (int64_t t = 1; t <= 6; ++t) {
      const Tensor g = random_f32(shape, rng_cpu, -2.0, 2.0);
      random_f32(shape, rng_gpu, -2.0, 2.0);  // keep the generators in step
      adamw_step(cpu.p, g, cpu.m, cpu.v, t, o);
      adamw_step(gpu.p, g.to(Device::cuda), gpu.m, gpu.v, t, o);
    }
    const std::string what = "adamw_step " + shape_string(shape);
    testing::expect_relative_error_below(gpu.p, cpu.p, 1e-6, what + " param");
    testing::expect_relative_error_below(gpu.m, cpu.m, 1e-6, what + " m");
    testing::expect_relative_error_below(gpu.v, cpu.v, 1e-6, what + " v");
  }
}

// Sizes around the multi-tensor chunk (4096) and an empty tensor.
const std::vector<Shape> kListShapes = {{4095}, {1}, {4096}, {3, 1367}, {0}, {4097}, {257, 129}};

TEST(CudaAdamW, MultiStepMatchesCpuPerTensorStepsAndDecay) {
  GRAFT_REQUIRE_GPU();
  const AdamWOptions o = test_options();
  std::mt19937_64 rng(2);
  std::vector<State> cpu, gpu;
  for (const Shape& s : kListShapes) {
    State c = make_state(s, rng, Device::cpu);
    cpu.push_back(c);
    gpu.push_back({c.p.to(Device::cuda), c.m.to(Device::cuda), c.v.to(Device::cuda)});
  }
  for (int64_t t = 1; t <= 5; ++t) {
    std::vector<AdamWTensor> cpu_list, gpu_list;
    for (size_t i = 0; i < kListShapes.size(); ++i) {
      const Tensor g = random_f32(kListShapes[i], rng, -2.0, 2.0);
      // Tensor i starts i steps later (its own bias correction); odd ones
      // have no decay.
      const int64_t step = t + static_cast<int64_t>(i);
      const double decay = i % 2 == 0 ? 0.05 * static_cast<double>(i + 1) : 0.0;
      cpu_list.push_back({cpu[i].p, g, cpu[i].m, cpu[i].v, Tensor(), step, decay});
      gpu_list.push_back({gpu[i].p, g.to(Device::cuda), gpu[i].m, gpu[i].v, Tensor(), step, decay});
    }
    const double lr = 1e-2 * static_cast<double>(t);  // a schedule
    adamw_multi_step(cpu_list, lr, o);
    adamw_multi_step(gpu_list, lr, o);
  }
  for (size_t i = 0; i < kListShapes.size(); ++i) {
    const std::string what = "tensor " + std::to_string(i);
    testing::expect_relative_error_below(gpu[i].p, cpu[i].p, 1e-6, what + " param");
    testing::expect_relative_error_below(gpu[i].m, cpu[i].m, 1e-6, what + " m");
    testing::expect_relative_error_below(gpu[i].v, cpu[i].v, 1e-6, what + " v");
  }
}

TEST(CudaAdamW, MasterWeightsTrackAnF32RunAndRoundIntoBf16Params) {
  GRAFT_REQUIRE_GPU();
  const AdamWOptions o = test_options();
  for (DType grad_dtype : {DType::bf16, DType::f32}) {
    std::mt19937_64 rng(3);
    // Reference: the same update on f32 CPU params, fed the gradients the GPU
    // sees (bf16-rounded when the GPU's are bf16).
    std::vector<State> ref;
    std::vector<AdamWTensor> gpu;
    for (const Shape& s : kListShapes) {
      State r = make_state(s, rng, Device::cpu);
      ref.push_back(r);
      AdamWTensor g;
      g.master = r.p.to(Device::cuda);
      g.param = r.p.to(DType::bf16).to(Device::cuda);
      g.m = Tensor::zeros(s, DType::f32, Device::cuda);
      g.v = Tensor::zeros(s, DType::f32, Device::cuda);
      gpu.push_back(g);
    }
    for (int64_t t = 1; t <= 5; ++t) {
      std::vector<AdamWTensor> ref_list;
      for (size_t i = 0; i < kListShapes.size(); ++i) {
        const Tensor grad = random_f32(kListShapes[i], rng, -2.0, 2.0, grad_dtype == DType::bf16);
        const double decay = i % 2 == 0 ? 0.1 : 0.0;
        ref_list.push_back({ref[i].p, grad, ref[i].m, ref[i].v, Tensor(), t, decay});
        gpu[i].grad = testing::to_gpu(grad, grad_dtype);
        gpu[i].step = t;
        gpu[i].weight_decay = decay;
      }
      adamw_multi_step(ref_list, 2e-2, o);
      adamw_multi_step(gpu, 2e-2, o);
    }
    for (size_t i = 0; i < kListShapes.size(); ++i) {
      const std::string what =
          std::string("grad ") + dtype_name(grad_dtype) + " tensor " + std::to_string(i);
      testing::expect_relative_error_below(gpu[i].master, ref[i].p, 1e-6, what + " master");
      testing::expect_relative_error_below(gpu[i].m, ref[i].m, 1e-6, what + " m");
      testing::expect_relative_error_below(gpu[i].v, ref[i].v, 1e-6, what + " v");
      EXPECT_EQ(gpu[i].param.dtype(), DType::bf16);
      // param == bf16(master), round to nearest even (the host's conversion).
      const Tensor rounded = gpu[i].master.to(Device::cpu).to(DType::bf16);
      EXPECT_EQ(testing::as_doubles(gpu[i].param.to(Device::cpu)), testing::as_doubles(rounded))
          << what;
    }
  }
}

TEST(CudaAdamW, BadArgumentsAreClearErrors) {
  GRAFT_REQUIRE_GPU();
  const AdamWOptions o = test_options();
  const Tensor f = Tensor::zeros({5}, DType::f32, Device::cuda);
  const Tensor b = Tensor::zeros({5}, DType::bf16, Device::cuda);
  // bf16 params need a master.
  testing::expect_error_containing([&] { adamw_step(b, b, b, b, 1, o); },
                                   {"adamw_step", "bf16", "master"});
  testing::expect_error_containing(
      [&] {
        adamw_multi_step({{b, b, f, f, Tensor(), 1, 0.0}}, 1e-3, o);
      },
      {"adamw_multi_step", "tensors[0]", "master"});
  // f64 on CUDA.
  const Tensor d = Tensor::zeros({5}, DType::f64).to(Device::cuda);
  testing::expect_error_containing([&] { adamw_step(d, d, d, d, 1, o); }, {"adamw_step", "f64"});
  // Mixed devices.
  const Tensor host = Tensor::zeros({5});
  testing::expect_error_containing(
      [&] {
        adamw_multi_step(
            {{f, f, f, f, Tensor(), 1, 0.0}, {host, host, host, host, Tensor(), 1, 0.0}}, 1e-3, o);
      },
      {"adamw_multi_step", "tensors[1]", "cuda"});
  // A master on the CPU.
  testing::expect_error_containing(
      [&] {
        adamw_multi_step({{host, host, host, host, host, 1, 0.0}}, 1e-3, o);
      },
      {"adamw_multi_step", "master", "CPU"});
  // Per-tensor step.
  testing::expect_error_containing(
      [&] {
        adamw_multi_step({{f, f, f, f, Tensor(), 0, 0.0}}, 1e-3, o);
      },
      {"adamw_multi_step", "step"});
}

}  // namespace
}  // namespace graft
