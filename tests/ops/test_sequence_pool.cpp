#include <gtest/gtest.h>

#include "ops/autograd.h"
#include "ops/flops.h"
#include "ops/sequence_pool.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::expect_gradients_match;
using testing::expect_tensors_near;
using testing::random_tensor;

// out[b, j] = sum over pooled t of x[b, t, j] / count, by loops in double.
Tensor naive_pool(const Tensor& x, PoolMode mode, const std::vector<int32_t>& mask) {
  const int64_t batch = x.dim(0), len = x.dim(1), d = x.dim(2);
  std::vector<double> xv = testing::as_doubles(x), out(static_cast<size_t>(batch * d), 0.0);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t count = 0;
    for (int64_t t = 0; t < len; ++t) {
      const bool real = mask.empty() || mask[b * len + t] != 0;
      if (mode == PoolMode::first_token ? t != 0 : !real) continue;
      ++count;
      for (int64_t j = 0; j < d; ++j)
        out[b * d + j] += xv[(b * len + t) * d + j];
    }
    for (int64_t j = 0; j < d; ++j)
      out[b * d + j] /= std::max<int64_t>(count, 1);
  }
  return Tensor::from_vector(out, {batch, d});
}

TEST(SequencePool, ForwardMatchesNaiveReference) {
  std::mt19937_64 rng(1);
  const std::vector<int32_t> mask_values{1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0};  // 3 x 4, last empty
  Tensor mask = Tensor::from_vector(mask_values, {3, 4});
  for (DType dtype : {DType::f64, DType::f32}) {
    Tensor x = random_tensor({3, 4, 5}, rng, dtype);
    const double tol = dtype == DType::f64 ? 1e-14 : 1e-6;
    expect_tensors_near(sequence_pool(x, PoolMode::first_token),
                        naive_pool(x, PoolMode::first_token, {}), tol, tol);
    expect_tensors_near(sequence_pool(x, PoolMode::mean), naive_pool(x, PoolMode::mean, {}), tol,
                        tol);
    expect_tensors_near(sequence_pool(x, PoolMode::mean, mask),
                        naive_pool(x, PoolMode::mean, mask_values), tol, tol);
  }
}

TEST(SequencePool, BackwardMatchesFiniteDifferences) {
  std::mt19937_64 rng(2);
  Tensor mask = Tensor::from_vector(std::vector<int32_t>{1, 0, 1, 1, 1, 1, 0, 0, 0}, {3, 3});
  Tensor x = random_tensor({3, 3, 4}, rng).set_requires_grad();
  for (PoolMode mode : {PoolMode::first_token, PoolMode::mean}) {
    expect_gradients_match(
        [&](const std::vector<Tensor>& in) { return sequence_pool(in[0], mode, mask); }, {x});
    expect_gradients_match(
        [&](const std::vector<Tensor>& in) { return sequence_pool(in[0], mode); }, {x});
  }
}

TEST(SequencePool, PaddingGetsNoGradientAndGradientsAccumulate) {
  std::mt19937_64 rng(3);
  Tensor mask = Tensor::from_vector(std::vector<int32_t>{1, 1, 0}, {1, 3});
  Tensor x = random_tensor({1, 3, 2}, rng).set_requires_grad();
  Tensor seed = Tensor::full({1, 2}, 1.0, DType::f64);
  tape().backward(sequence_pool(x, PoolMode::mean, mask), seed);
  std::vector<double> g = x.grad().to_vector<double>();
  EXPECT_EQ(g, (std::vector<double>{0.5, 0.5, 0.5, 0.5, 0.0, 0.0}));
  tape().backward(sequence_pool(x, PoolMode::first_token), seed);
  g = x.grad().to_vector<double>();
  EXPECT_EQ(g, (std::vector<double>{1.5, 1.5, 0.5, 0.5, 0.0, 0.0}));
}

TEST(SequencePool, LedgerCountsMeanWorkAsOther) {
  std::mt19937_64 rng(4);
  Tensor x = random_tensor({2, 3, 5}, rng).set_requires_grad();
  flops_ledger().reset();
  Tensor y = sequence_pool(x, PoolMode::mean);
  EXPECT_EQ(flops_ledger().forward().other, 30.0);
  tape().backward(y, Tensor::full({2, 5}, 1.0, DType::f64));
  EXPECT_EQ(flops_ledger().backward().other, 30.0);
  EXPECT_EQ(flops_ledger().model_total(), 0.0);
  flops_ledger().reset();
  tape().backward(sequence_pool(x, PoolMode::first_token), Tensor::full({2, 5}, 1.0, DType::f64));
  EXPECT_EQ(flops_ledger().total(), 0.0);
}

TEST(SequencePool, BadArgumentsAreRejected) {
  EXPECT_THROW(sequence_pool(Tensor::zeros({2, 3}), PoolMode::mean), Error);
  EXPECT_THROW(sequence_pool(Tensor::zeros({2, 3, 4}), PoolMode::mean, Tensor::zeros({2, 4})),
               Error);
  EXPECT_THROW(
      sequence_pool(Tensor::zeros({2, 3, 4}), PoolMode::mean, Tensor::zeros({2, 4}, DType::i32)),
      Error);
}

}  // namespace
}  // namespace graft
