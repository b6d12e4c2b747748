// bce_with_logits on the GPU against the CPU op: loss and dlogits, with and
// without weights (zeros included), f32 and bf16, awkward sizes, accumulation,
// bit-identical reruns, bad arguments.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "ops/autograd.h"
#include "ops/binary_cross_entropy.h"
#include "tests/support/cuda_compare.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::random_f32;

struct Inputs {
  Tensor logits, targets, weights;  // f32 on the CPU; weights may be undefined
};

Inputs make_inputs(const Shape& shape, bool with_weights, bool bf16, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Inputs in;
  in.logits = random_f32(shape, rng, -8.0, 8.0, bf16);
  in.targets = random_f32(shape, rng, 0.0, 1.0, bf16);
  if (with_weights) {
    in.weights = random_f32(shape, rng, 0.0, 2.0, bf16);
    float* w = in.weights.data<float>();
    for (int64_t i = 0; i < in.weights.numel(); i += 3)
      w[i] = 0.0f;  // padding positions
  }
  return in;
}

struct Results {
  Tensor loss, dlogits;
};

Results run(const Inputs& in, Device device, DType dtype, int passes = 1) {
  auto place = [&](const Tensor& t) {
    if (!t.defined()) return Tensor();
    return device == Device::cuda ? testing::to_gpu(t, dtype) : t.clone();
  };
  Tensor x = place(in.logits), y = place(in.targets), w = place(in.weights);
  x.set_requires_grad();
  Results r;
  for (int p = 0; p < passes; ++p) {
    r.loss = bce_with_logits(x, y, w);
    Tensor seed = Tensor::scalar(1.25, r.loss.dtype());
    tape().backward(r.loss, device == Device::cuda ? seed.to(Device::cuda) : seed);
  }
  r.dlogits = x.grad();
  return r;
}

void check_against_cpu(DType dtype, double tolerance) {
  for (const Shape& shape : std::vector<Shape>{{1}, {7}, {3, 11}, {1000}, {4099}, {129, 768}}) {
    for (bool weights : {false, true}) {
      const Inputs in = make_inputs(shape, weights, dtype == DType::bf16, shape_numel(shape));
      const Results gpu = run(in, Device::cuda, dtype);
      const Results cpu = run(in, Device::cpu, DType::f32);
      const std::string what =
          std::string(dtype_name(dtype)) + " " + shape_string(shape) + (weights ? " weighted" : "");
      EXPECT_EQ(gpu.loss.dtype(), DType::f32) << what;
      EXPECT_EQ(gpu.loss.device(), Device::cuda) << what;
      EXPECT_EQ(gpu.dlogits.dtype(), dtype) << what;
      testing::expect_relative_error_below(gpu.loss, cpu.loss, tolerance, what + " loss");
      testing::expect_relative_error_below(gpu.dlogits, cpu.dlogits, tolerance, what + " dlogits");
    }
  }
}

TEST(CudaBceWithLogits, F32MatchesCpu) {
  GRAFT_REQUIRE_GPU();
  check_against_cpu(DType::f32, 1e-5);
}

TEST(CudaBceWithLogits, Bf16MatchesCpuOnRoundedInputs) {
  GRAFT_REQUIRE_GPU();
  check_against_cpu(DType::bf16, 1e-2);
}

TEST(CudaBceWithLogits, ZeroWeightSumIsZeroWithZeroGradient) {
  GRAFT_REQUIRE_GPU();
  Inputs in = make_inputs({5, 9}, true, false, 1);
  in.weights.fill(0.0);
  const Results gpu = run(in, Device::cuda, DType::f32);
  EXPECT_EQ(gpu.loss.item(), 0.0);
  for (float g : gpu.dlogits.to_vector<float>())
    ASSERT_EQ(g, 0.0f);
}

TEST(CudaBceWithLogits, GradientsAccumulateAcrossBackwardPasses) {
  GRAFT_REQUIRE_GPU();
  for (DType dtype : {DType::f32, DType::bf16}) {
    const Inputs in = make_inputs({17, 301}, true, dtype == DType::bf16, 2);
    const std::vector<double> once =
        testing::as_doubles(testing::to_cpu_f32(run(in, Device::cuda, dtype, 1).dlogits));
    const std::vector<double> twice =
        testing::as_doubles(testing::to_cpu_f32(run(in, Device::cuda, dtype, 2).dlogits));
    ASSERT_EQ(once.size(), twice.size());
    for (size_t i = 0; i < once.size(); ++i)
      ASSERT_EQ(twice[i], 2 * once[i]) << dtype_name(dtype) << " element " << i;
  }
}

TEST(CudaBceWithLogits, RerunsAreBitIdentical) {
  GRAFT_REQUIRE_GPU();
  const Inputs in = make_inputs({3000017}, true, false, 3);
  const Results a = run(in, Device::cuda, DType::f32);
  const Results b = run(in, Device::cuda, DType::f32);
  EXPECT_EQ(a.loss.item(), b.loss.item());
  EXPECT_EQ(a.dlogits.to_vector<float>(), b.dlogits.to_vector<float>());
  testing::expect_relative_error_below(a.loss, run(in, Device::cpu, DType::f32).loss, 1e-5,
                                       "3000017 elements loss");
}

TEST(CudaBceWithLogits, BadArgumentsAreClearErrors) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(4);
  Tensor x64 = testing::random_tensor({6}, rng, DType::f64).to(Device::cuda);
  Tensor y64 = testing::random_tensor({6}, rng, DType::f64, 0.0, 1.0).to(Device::cuda);
  testing::expect_error_containing([&] { bce_with_logits(x64, y64); }, {"bce_with_logits", "f64"});
  Tensor x = random_f32({6}, rng).to(Device::cuda);
  Tensor y_cpu = random_f32({6}, rng, 0.0, 1.0);
  testing::expect_error_containing([&] { bce_with_logits(x, y_cpu); },
                                   {"bce_with_logits", "targets", "cuda"});
}

}  // namespace
}  // namespace graft
