// gelu on the GPU against the CPU op: forward, gradient, accumulation,
// determinism, FLOPs and bad arguments.
#include "ops/gelu.h"

#include <gtest/gtest.h>

#include "tests/cuda/pointwise_compare.h"

namespace graft {
namespace {

const testing::Op kGelu = [](const std::vector<Tensor>& x) { return gelu(x[0]); };

TEST(CudaGelu, MatchesCpu) {
  GRAFT_REQUIRE_GPU();
  for (DType dtype : {DType::f32, DType::bf16}) {
    for (const Shape& s : std::vector<Shape>{{3, 1, 17}, {257, 129}, {1000003}}) {
      // Wide range: both tails of tanh and the curved middle.
      testing::expect_op_matches_cpu(kGelu, {s}, s, dtype, "gelu " + shape_string(s), 1, -6.0, 6.0);
    }
    // One element, away from the far negative tail: there gelu(x) is ~1e-6,
    // below the CPU's tanh approximation's absolute error (~1e-7 on 1 + tanh),
    // so a lone tail value cannot agree to 1e-5 relative (in a large tensor
    // the norm is dominated by the other elements).
    testing::expect_op_matches_cpu(kGelu, {{1}}, {1}, dtype, "gelu [1]", 1, -2.0, 2.0);
  }
}

TEST(CudaGelu, BackwardTwiceDoublesTheGradient) {
  GRAFT_REQUIRE_GPU();
  testing::expect_backward_twice_doubles(kGelu, {{31, 65}}, {31, 65});
}

TEST(CudaGelu, BitIdenticalOnReruns) {
  GRAFT_REQUIRE_GPU();
  for (DType dtype : {DType::f32, DType::bf16})
    testing::expect_bit_identical_reruns(kGelu, {{123, 457}}, {123, 457}, dtype);
}

TEST(CudaGelu, F64OnCudaIsAClearError) {
  GRAFT_REQUIRE_GPU();
  const Tensor g64 = Tensor::zeros({4}, DType::f64).to(Device::cuda);
  testing::expect_error_containing([&] { gelu(g64); }, {"gelu", "f64"});
}

}  // namespace
}  // namespace graft
