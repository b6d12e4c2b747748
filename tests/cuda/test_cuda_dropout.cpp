// dropout on the GPU: the same mask as the CPU, bit for bit (f32 outputs and
// gradients equal exactly), bf16 within tolerance, accumulation, FLOPs and
// bad arguments.
#include "ops/dropout.h"

#include <gtest/gtest.h>

#include "tests/cuda/pointwise_compare.h"

namespace graft {
namespace {

testing::Op dropout_op(double p, uint64_t seed) {
  return [p, seed](const std::vector<Tensor>& x) { return dropout(x[0], p, seed); };
}

TEST(CudaDropout, F32OutputAndGradientEqualTheCpuExactly) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(1);
  for (double p : {0.1, 0.5, 0.9}) {
    for (const Shape& s : std::vector<Shape>{{1}, {3, 1, 17}, {513, 257}, {1000003}}) {
      // Inputs away from zero, so a kept element is never zero.
      const Tensor x = testing::random_f32(s, rng, 1.0, 2.0);
      const Tensor up = testing::random_f32(s, rng);
      for (uint64_t seed : {uint64_t{0}, uint64_t{12345}, ~uint64_t{0}}) {
        const testing::OpRun cpu =
            testing::run_op(dropout_op(p, seed), {x}, up, Device::cpu, DType::f32);
        const testing::OpRun gpu =
            testing::run_op(dropout_op(p, seed), {x}, up, Device::cuda, DType::f32);
        const std::string what = "p=" + std::to_string(p) + " " + shape_string(s);
        EXPECT_EQ(testing::as_doubles(gpu.out.to(Device::cpu)), testing::as_doubles(cpu.out))
            << what;
        EXPECT_EQ(testing::as_doubles(gpu.grads[0].to(Device::cpu)),
                  testing::as_doubles(cpu.grads[0]))
            << what;
        EXPECT_EQ(gpu.ledger.forward().other, cpu.ledger.forward().other);
        EXPECT_EQ(gpu.ledger.backward().other, cpu.ledger.backward().other);
      }
    }
  }
}

TEST(CudaDropout, Bf16MatchesCpuWithTheSameMask) {
  GRAFT_REQUIRE_GPU();
  const Shape s{77, 1001};
  testing::expect_op_matches_cpu(dropout_op(0.3, 99), {s}, s, DType::bf16, "dropout bf16", 5, 1.0,
                                 2.0);
  // The same elements are dropped: zeros sit exactly where the CPU has them.
  std::mt19937_64 rng(6);
  const Tensor x = testing::random_f32(s, rng, 1.0, 2.0, true);
  const std::vector<double> cpu = testing::as_doubles(dropout(x, 0.3, 7));
  const std::vector<double> gpu =
      testing::as_doubles(testing::to_cpu_f32(dropout(testing::to_gpu(x, DType::bf16), 0.3, 7)));
  ASSERT_EQ(cpu.size(), gpu.size());
  for (size_t i = 0; i < cpu.size(); ++i)
    ASSERT_EQ(cpu[i] == 0.0, gpu[i] == 0.0) << "element " << i;
}

// A slice at first_index (a data-parallel rank's rows) draws the CPU's slice
// of the mask on the GPU too: the offset only moves the stream's key.
TEST(CudaDropout, FirstIndexGivesTheCpuMaskOfThatSlice) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(8);
  const Tensor x = testing::random_f32({129, 67}, rng, 1.0, 2.0);
  const Tensor up = testing::random_f32({129, 67}, rng);
  for (int64_t first : {int64_t{1}, int64_t{3} * 129 * 67, int64_t{1} << 40}) {
    auto op = [first](const std::vector<Tensor>& in) {
      return dropout(in[0], 0.3, 11, true, first);
    };
    const testing::OpRun cpu = testing::run_op(op, {x}, up, Device::cpu, DType::f32);
    const testing::OpRun gpu = testing::run_op(op, {x}, up, Device::cuda, DType::f32);
    EXPECT_EQ(testing::as_doubles(gpu.out.to(Device::cpu)), testing::as_doubles(cpu.out)) << first;
    EXPECT_EQ(testing::as_doubles(gpu.grads[0].to(Device::cpu)), testing::as_doubles(cpu.grads[0]))
        << first;
  }
}

TEST(CudaDropout, BackwardTwiceDoublesTheGradient) {
  GRAFT_REQUIRE_GPU();
  testing::expect_backward_twice_doubles(dropout_op(0.4, 3), {{31, 65}}, {31, 65});
}

TEST(CudaDropout, EvaluationAndZeroPReturnTheInput) {
  GRAFT_REQUIRE_GPU();
  const Tensor x = Tensor::zeros({5}, DType::bf16, Device::cuda);
  EXPECT_TRUE(dropout(x, 0.5, 1, false).same_storage(x));
  EXPECT_TRUE(dropout(x, 0.0, 1).same_storage(x));
}

TEST(CudaDropout, F64OnCudaIsAClearError) {
  GRAFT_REQUIRE_GPU();
  const Tensor g64 = Tensor::zeros({4}, DType::f64).to(Device::cuda);
  testing::expect_error_containing([&] { dropout(g64, 0.5, 1); }, {"dropout", "f64"});
}

}  // namespace
}  // namespace graft
