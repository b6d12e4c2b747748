// add (with suffix broadcast), scale and mul on the GPU against the CPU ops:
// forward, every gradient, accumulation, determinism, FLOPs and bad arguments.
#include "ops/elementwise.h"

#include <gtest/gtest.h>

#include "tests/cuda/pointwise_compare.h"

namespace graft {
namespace {

using testing::Op;

Op add_op() {
  return [](const std::vector<Tensor>& x) { return add(x[0], x[1]); };
}
Op mul_op() {
  return [](const std::vector<Tensor>& x) { return mul(x[0], x[1]); };
}
Op scale_op(double alpha) {
  return [alpha](const std::vector<Tensor>& x) { return scale(x[0], alpha); };
}

TEST(CudaElementwise, AddMatchesCpuWithAndWithoutBroadcast) {
  GRAFT_REQUIRE_GPU();
  struct Case {
    Shape a, b;
  };
  const std::vector<Case> cases = {
      {{3, 5, 7}, {3, 5, 7}},   // same shape
      {{3, 5, 7}, {5, 7}},      // position-embedding style
      {{4, 517, 129}, {129}},   // bias: many row chunks
      {{70001, 3}, {3}},        // tall and narrow: ~1000 row chunks
      {{2, 300001}, {300001}},  // wide: many column blocks, two rows
      {{1, 1}, {1}},            // size 1
      {{1, 1, 33}, {1, 33}},    // size-1 leading dims
  };
  for (DType dtype : {DType::f32, DType::bf16}) {
    for (const Case& c : cases) {
      testing::expect_op_matches_cpu(add_op(), {c.a, c.b}, c.a, dtype,
                                     "add " + shape_string(c.a) + " + " + shape_string(c.b));
    }
  }
}

TEST(CudaElementwise, ScaleAndMulMatchCpu) {
  GRAFT_REQUIRE_GPU();
  for (DType dtype : {DType::f32, DType::bf16}) {
    for (const Shape& s : std::vector<Shape>{{1}, {3, 1, 17}, {513, 257}, {1000003}}) {
      testing::expect_op_matches_cpu(scale_op(-1.75), {s}, s, dtype, "scale " + shape_string(s));
      testing::expect_op_matches_cpu(mul_op(), {s, s}, s, dtype, "mul " + shape_string(s));
    }
  }
}

TEST(CudaElementwise, SameTensorTwiceAccumulatesBothGradients) {
  GRAFT_REQUIRE_GPU();
  for (DType dtype : {DType::f32, DType::bf16}) {
    testing::expect_op_matches_cpu([](const std::vector<Tensor>& x) { return mul(x[0], x[0]); },
                                   {{37, 11}}, {37, 11}, dtype, "mul(x, x)");
    testing::expect_op_matches_cpu([](const std::vector<Tensor>& x) { return add(x[0], x[0]); },
                                   {{1001}}, {1001}, dtype, "add(x, x)");
  }
}

TEST(CudaElementwise, BackwardTwiceDoublesTheGradients) {
  GRAFT_REQUIRE_GPU();
  testing::expect_backward_twice_doubles(
      [](const std::vector<Tensor>& x) { return scale(mul(add(x[0], x[1]), x[2]), 0.5); },
      {{9, 300}, {300}, {9, 300}}, {9, 300});
}

TEST(CudaElementwise, BitIdenticalOnReruns) {
  GRAFT_REQUIRE_GPU();
  for (DType dtype : {DType::f32, DType::bf16}) {
    testing::expect_bit_identical_reruns(add_op(), {{64, 129, 77}, {77}}, {64, 129, 77}, dtype);
    testing::expect_bit_identical_reruns(mul_op(), {{1000, 33}, {1000, 33}}, {1000, 33}, dtype);
  }
}

TEST(CudaElementwise, BadArgumentsAreClearErrors) {
  GRAFT_REQUIRE_GPU();
  const Tensor g64 = Tensor::zeros({2, 3}, DType::f64).to(Device::cuda);
  testing::expect_error_containing([&] { add(g64, g64); }, {"add", "f64"});
  testing::expect_error_containing([&] { scale(g64, 2.0); }, {"scale", "f64"});
  testing::expect_error_containing([&] { mul(g64, g64); }, {"mul", "f64"});
  const Tensor gpu = Tensor::zeros({2, 3}, DType::f32, Device::cuda);
  testing::expect_error_containing([&] { add(gpu, Tensor::zeros({3})); }, {"add", "b", "cuda"});
  testing::expect_error_containing([&] { mul(gpu, Tensor::zeros({2, 3})); }, {"mul", "b"});
  testing::expect_error_containing([&] { add(gpu, Tensor::zeros({3}, DType::bf16, Device::cuda)); },
                                   {"add", "b", "bf16"});
}

}  // namespace
}  // namespace graft
