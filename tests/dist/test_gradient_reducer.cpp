// GradientReducer on one process (the single-rank communicator's average is
// the identity): bucket layout, gradients preserved, readiness during backward
// and the bookkeeping. The multi-rank equivalence is tests/dist/tp_equivalence_main.cpp.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "dist/gradient_reducer.h"
#include "dist/single_communicator.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "tests/support/gradcheck.h"

namespace graft::dist {
namespace {

struct Net {
  std::vector<Tensor> params;  // w0 [8, 8], w1 [8, 8], w2 [8, 8], unused [4]
  explicit Net(std::mt19937_64& rng) {
    for (int i = 0; i < 3; ++i)
      params.push_back(testing::random_tensor({8, 8}, rng).set_requires_grad(true));
    params.push_back(testing::random_tensor({4}, rng).set_requires_grad(true));
  }
  Tensor loss(const Tensor& x) const {
    Tensor h = x;
    for (int i = 0; i < 3; ++i)
      h = linear(h, params[i]);
    return scale(h.reshape({h.numel()}), 0.5);
  }
};

TEST(GradientReducer, BucketsInReverseOrderWithinTheByteLimit) {
  std::mt19937_64 rng(1);
  Net net(rng);
  SingleCommunicator dp("dp");
  ReducerOptions options;
  options.bucket_bytes = 2 * 8 * 8 * sizeof(double);  // two weights per bucket
  GradientReducer reducer(dp, net.params, options);
  ASSERT_EQ(reducer.num_buckets(), 2u);
  EXPECT_EQ(reducer.bucket_members(0), (std::vector<size_t>{3, 2}));
  EXPECT_EQ(reducer.bucket_members(1), (std::vector<size_t>{1, 0}));
}

TEST(GradientReducer, StartsBucketsDuringBackwardAndKeepsGradients) {
  std::mt19937_64 rng(2);
  Net net(rng);
  Tensor x = testing::random_tensor({3, 8}, rng);
  Tensor seed = testing::random_tensor({24}, rng);
  tape().backward(net.loss(x), seed);
  std::vector<Tensor> want;
  for (int i = 0; i < 3; ++i) {
    want.push_back(net.params[i].grad().clone());
    net.params[i].zero_grad();
  }

  SingleCommunicator dp("dp");
  ReducerOptions options;
  options.bucket_bytes = 8 * 8 * sizeof(double);  // one weight per bucket
  GradientReducer reducer(dp, net.params, options);
  ASSERT_EQ(reducer.num_buckets(), 4u);
  for (int step = 0; step < 2; ++step) {
    reducer.begin();
    tape().backward(net.loss(x), seed);
    reducer.finish();
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(net.params[i].has_grad());
      EXPECT_EQ(std::memcmp(net.params[i].grad().raw_data(), want[i].raw_data(), want[i].bytes()),
                0);
      net.params[i].zero_grad();
    }
    EXPECT_FALSE(net.params[3].has_grad()) << "an unused parameter gets no gradient";
    const ReducerStats& stats = reducer.last_stats();
    EXPECT_EQ(stats.buckets, 4u);
    EXPECT_EQ(stats.bytes, (3 * 64 + 4) * sizeof(double));
    EXPECT_EQ(stats.started_during_backward, 4u);
    EXPECT_GE(stats.comm_seconds, 0.0);
    EXPECT_GE(stats.hidden_seconds(), 0.0);
  }
  EXPECT_EQ(tape().observer(), nullptr);
}

TEST(GradientReducer, FrozenParametersAreLeftAloneAndMisuseIsAnError) {
  std::mt19937_64 rng(3);
  Net net(rng);
  net.params[0].set_requires_grad(false);
  SingleCommunicator dp("dp");
  GradientReducer reducer(dp, net.params);
  EXPECT_EQ(reducer.num_buckets(), 1u);
  EXPECT_EQ(reducer.bucket_members(0).size(), 3u);
  EXPECT_THROW(reducer.finish(), Error);
  reducer.begin();
  EXPECT_THROW(reducer.begin(), Error);
  reducer.finish();
}

}  // namespace
}  // namespace graft::dist
