// rotary_embedding on the GPU against the CPU op: forward (the pairing and
// base), the inverse-rotation gradient, accumulation, determinism, FLOPs and
// bad arguments.
#include "ops/rotary.h"

#include <gtest/gtest.h>

#include "tests/cuda/pointwise_compare.h"

namespace graft {
namespace {

testing::Op rotary_op(int64_t heads, int64_t offset, double base) {
  return [=](const std::vector<Tensor>& x) { return rotary_embedding(x[0], heads, offset, base); };
}

TEST(CudaRotary, MatchesCpu) {
  GRAFT_REQUIRE_GPU();
  struct Case {
    Shape shape;
    int64_t heads, offset;
    double base;
  };
  const std::vector<Case> cases = {
      {{2, 7, 12}, 3, 0, 10000.0},     // Dh = 4
      {{1, 1, 2}, 1, 0, 10000.0},      // one pair
      {{3, 33, 96}, 2, 5, 500.0},      // Dh = 48, offset, other base
      {{2, 257, 384}, 6, 0, 10000.0},  // GPT-2-like heads (Dh = 64)
      {{1, 1029, 10}, 1, 1000, 1e6},   // long, large offset
  };
  for (DType dtype : {DType::f32, DType::bf16}) {
    for (const Case& c : cases) {
      testing::expect_op_matches_cpu(rotary_op(c.heads, c.offset, c.base), {c.shape}, c.shape,
                                     dtype, "rotary " + shape_string(c.shape));
    }
  }
}

TEST(CudaRotary, BackwardTwiceDoublesTheGradient) {
  GRAFT_REQUIRE_GPU();
  testing::expect_backward_twice_doubles(rotary_op(2, 3, 10000.0), {{3, 9, 20}}, {3, 9, 20});
}

TEST(CudaRotary, BitIdenticalOnReruns) {
  GRAFT_REQUIRE_GPU();
  for (DType dtype : {DType::f32, DType::bf16})
    testing::expect_bit_identical_reruns(rotary_op(4, 0, 10000.0), {{2, 65, 128}}, {2, 65, 128},
                                         dtype);
}

TEST(CudaRotary, F64OnCudaIsAClearError) {
  GRAFT_REQUIRE_GPU();
  const Tensor g64 = Tensor::zeros({1, 2, 4}, DType::f64).to(Device::cuda);
  testing::expect_error_containing([&] { rotary_embedding(g64, 1); }, {"rotary", "f64"});
}

}  // namespace
}  // namespace graft
