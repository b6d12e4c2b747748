// The global gradient norm and clipping on the GPU: mixed f32/bf16 lists
// against the CPU (the norm in double within 1e-9), bit-identical reruns,
// clipping like the CPU, and argument errors.
#include "ops/grad_norm.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/support/cuda_compare.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::random_f32;

// Sizes around the multi-tensor chunk (8192), an empty tensor, and many
// small ones; every other tensor bf16 (values bf16-exact so the CPU's f32
// copies hold the same numbers).
struct GradList {
  std::vector<Tensor> cpu, gpu;
};

GradList make_grads(std::mt19937_64& rng, double scale) {
  std::vector<Shape> shapes = {{8191}, {1}, {8192}, {3, 2731}, {0}, {8193}, {513, 257}, {1000003}};
  for (int i = 0; i < 150; ++i)
    shapes.push_back({1 + static_cast<int64_t>(rng() % 3000)});
  GradList list;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const bool bf16 = i % 2 == 1;
    const Tensor g = random_f32(shapes[i], rng, -scale, scale, bf16);
    list.cpu.push_back(g);
    list.gpu.push_back(testing::to_gpu(g, bf16 ? DType::bf16 : DType::f32));
  }
  return list;
}

TEST(CudaGradNorm, MatchesCpuAndIsBitIdenticalOnReruns) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(1);
  GradList list = make_grads(rng, 3.0);
  list.cpu.insert(list.cpu.begin() + 2, Tensor());  // undefined entries are skipped
  list.gpu.insert(list.gpu.begin() + 2, Tensor());
  const double cpu = global_grad_norm(list.cpu);
  const double gpu = global_grad_norm(list.gpu);
  EXPECT_NEAR(gpu, cpu, 1e-9 * cpu);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(global_grad_norm(list.gpu), gpu);
  EXPECT_EQ(global_grad_norm({Tensor(), Tensor::zeros({0}, DType::f32, Device::cuda)}), 0.0);
  const Tensor three_four = Tensor::from_vector<float>({3, 4}, {2}).to(Device::cuda);
  EXPECT_EQ(global_grad_norm({three_four}), 5.0);
  EXPECT_EQ(global_grad_norm({three_four.to(DType::bf16), three_four}), std::sqrt(50.0));
}

std::vector<Tensor> params_with(const std::vector<Tensor>& grads) {
  std::vector<Tensor> params;
  for (const Tensor& g : grads) {
    Tensor p = Tensor::zeros(g.shape(), g.dtype(), g.device()).set_requires_grad();
    p.set_grad(g);
    params.push_back(p);
  }
  params.push_back(Tensor::zeros({3}, DType::f32, Device::cuda));  // no gradient: skipped
  return params;
}

TEST(CudaGradNorm, ClipScalesLikeTheCpu) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(2);
  const GradList list = make_grads(rng, 1.0);
  std::vector<Tensor> cpu_params = params_with(list.cpu);
  cpu_params.back() = Tensor::zeros({3});
  const std::vector<Tensor> gpu_params = params_with(list.gpu);
  const double norm = global_grad_norm(list.cpu);
  const double max_norm = norm / 7.0;
  EXPECT_NEAR(clip_grad_norm(gpu_params, max_norm), clip_grad_norm(cpu_params, max_norm),
              1e-9 * norm);
  for (size_t i = 0; i < list.cpu.size(); ++i) {
    if (list.cpu[i].numel() == 0) continue;
    // bf16 grads are rounded after scaling; the CPU's stay f32.
    const double tolerance = list.gpu[i].dtype() == DType::bf16 ? 1e-2 : 1e-6;
    testing::expect_relative_error_below(list.gpu[i], list.cpu[i], tolerance,
                                         "grad " + std::to_string(i));
  }
  EXPECT_NEAR(global_grad_norm(list.gpu), max_norm, 1e-2 * max_norm);
  // Below max_norm nothing changes.
  const std::vector<double> before = testing::as_doubles(testing::to_cpu_f32(list.gpu[0]));
  clip_grad_norm(gpu_params, 1e9);
  EXPECT_EQ(testing::as_doubles(testing::to_cpu_f32(list.gpu[0])), before);
}

TEST(CudaGradNorm, F32ClipMatchesCpuWithin1e6) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(3);
  std::vector<Tensor> cpu, gpu;
  for (int64_t n : {1, 8191, 8193, 100003}) {
    cpu.push_back(random_f32({n}, rng, -2.0, 2.0));
    gpu.push_back(cpu.back().to(Device::cuda));
  }
  const double norm = global_grad_norm(cpu);
  clip_grad_norm(params_with(gpu), norm / 3);
  std::vector<Tensor> cpu_params = params_with(cpu);
  cpu_params.back() = Tensor::zeros({3});
  clip_grad_norm(cpu_params, norm / 3);
  for (size_t i = 0; i < cpu.size(); ++i)
    testing::expect_relative_error_below(gpu[i], cpu[i], 1e-6, "grad " + std::to_string(i));
}

TEST(CudaGradNorm, BadListsAreClearErrors) {
  GRAFT_REQUIRE_GPU();
  const Tensor gpu = Tensor::zeros({4}, DType::f32, Device::cuda);
  testing::expect_error_containing(
      [&] {
        global_grad_norm({gpu, Tensor::zeros({4})});
      },
      {"global_grad_norm", "grads[1]", "CUDA"});
  testing::expect_error_containing(
      [&] {
        global_grad_norm({gpu, Tensor::zeros({4}, DType::f64).to(Device::cuda)});
      },
      {"global_grad_norm", "grads[1]", "f64"});
  testing::expect_error_containing(
      [&] {
        global_grad_norm({Tensor::zeros({4}), gpu});
      },
      {"global_grad_norm", "grads[1]", "CPU"});
}

}  // namespace
}  // namespace graft
