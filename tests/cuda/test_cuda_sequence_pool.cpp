// sequence_pool on the GPU against the CPU op: first_token and mean (with and
// without a mask, including an all-padding sequence), gradients,
// accumulation, determinism, FLOPs and bad arguments.
#include "ops/sequence_pool.h"

#include <gtest/gtest.h>

#include "tests/cuda/pointwise_compare.h"

namespace graft {
namespace {

// A mask with varied lengths; sequence 1 (when there is one) is all padding.
Tensor make_mask(int64_t batch, int64_t len, std::mt19937_64& rng) {
  std::vector<int32_t> m(static_cast<size_t>(batch * len), 0);
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t real = b == 1 ? 0 : 1 + static_cast<int64_t>(rng() % len);
    for (int64_t t = 0; t < real; ++t)
      m[b * len + t] = static_cast<int32_t>(1 + rng() % 3);  // any nonzero is real
  }
  return Tensor::from_vector(m, {batch, len});
}

// The mask goes to x's device.
testing::Op pool_op(PoolMode mode, const Tensor& mask) {
  return [mode, mask](const std::vector<Tensor>& x) {
    if (!mask.defined()) return sequence_pool(x[0], mode);
    return sequence_pool(x[0], mode,
                         mask.device() == x[0].device() ? mask : mask.to(x[0].device()));
  };
}

TEST(CudaSequencePool, MatchesCpu) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(1);
  const std::vector<Shape> shapes = {{1, 1, 1}, {3, 5, 7}, {4, 129, 257}, {2, 1000, 33}};
  for (DType dtype : {DType::f32, DType::bf16}) {
    for (const Shape& s : shapes) {
      const Shape out{s[0], s[2]};
      const std::string what = "pool " + shape_string(s);
      testing::expect_op_matches_cpu(pool_op(PoolMode::first_token, Tensor()), {s}, out, dtype,
                                     what + " first_token");
      testing::expect_op_matches_cpu(pool_op(PoolMode::mean, Tensor()), {s}, out, dtype,
                                     what + " mean");
      testing::expect_op_matches_cpu(pool_op(PoolMode::mean, make_mask(s[0], s[1], rng)), {s}, out,
                                     dtype, what + " masked mean");
    }
  }
}

TEST(CudaSequencePool, BackwardTwiceDoublesTheGradient) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(2);
  const Tensor mask = make_mask(3, 9, rng).to(Device::cuda);
  testing::expect_backward_twice_doubles(pool_op(PoolMode::mean, mask), {{3, 9, 20}}, {3, 20});
  testing::expect_backward_twice_doubles(pool_op(PoolMode::first_token, Tensor()), {{3, 9, 20}},
                                         {3, 20});
}

TEST(CudaSequencePool, BitIdenticalOnReruns) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(3);
  const Tensor mask = make_mask(4, 300, rng);
  for (DType dtype : {DType::f32, DType::bf16})
    testing::expect_bit_identical_reruns(pool_op(PoolMode::mean, mask), {{4, 300, 65}}, {4, 65},
                                         dtype);
}

TEST(CudaSequencePool, BadArgumentsAreClearErrors) {
  GRAFT_REQUIRE_GPU();
  const Tensor g64 = Tensor::zeros({2, 3, 4}, DType::f64).to(Device::cuda);
  testing::expect_error_containing([&] { sequence_pool(g64, PoolMode::mean); },
                                   {"sequence_pool", "f64"});
  const Tensor x = Tensor::zeros({2, 3, 4}, DType::f32, Device::cuda);
  testing::expect_error_containing(
      [&] {
        sequence_pool(x, PoolMode::mean, Tensor::zeros({2, 3}, DType::i32));
      },
      {"sequence_pool", "mask", "cpu"});
}

}  // namespace
}  // namespace graft
