#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>

#include "ops/autograd.h"
#include "ops/binary_cross_entropy.h"
#include "ops/flops.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::expect_error_containing;

using testing::expect_gradients_match;
using testing::random_tensor;

// -(y log σ(x) + (1-y) log(1-σ(x))) in long double, with log σ(x) =
// -log1p(e^-x) and log(1-σ(x)) = -log1p(e^x): exact for the ±100 cases, where
// σ itself rounds to 1.
double naive_bce(const Tensor& logits, const Tensor& targets, const Tensor& weights) {
  const std::vector<double> x = testing::as_doubles(logits), y = testing::as_doubles(targets);
  const std::vector<double> w =
      weights.defined() ? testing::as_doubles(weights) : std::vector<double>(x.size(), 1.0);
  long double num = 0, den = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const long double xi = x[i];
    const long double l = y[i] * std::log1p(std::exp(-xi)) + (1 - y[i]) * std::log1p(std::exp(xi));
    num += w[i] * l;
    den += w[i];
  }
  return den == 0 ? 0.0 : static_cast<double>(num / den);
}

// Hard 0/1 targets on even positions, soft ones elsewhere.
Tensor mixed_targets(const Shape& shape, std::mt19937_64& rng, DType dtype) {
  Tensor t = random_tensor(shape, rng, DType::f64, 0.0, 1.0);
  double* y = t.data<double>();
  for (int64_t i = 0; i < t.numel(); i += 2)
    y[i] = y[i] < 0.5 ? 0.0 : 1.0;
  return t.to(dtype);
}

// Weights with zeros (padding) and non-uniform positive values.
Tensor padding_weights(const Shape& shape, std::mt19937_64& rng, DType dtype) {
  Tensor w = random_tensor(shape, rng, DType::f64, 0.2, 2.0);
  double* p = w.data<double>();
  for (int64_t i = 0; i < w.numel(); i += 3)
    p[i] = 0.0;
  return w.to(dtype);
}

TEST(BceWithLogits, ForwardMatchesNaiveReference) {
  std::mt19937_64 rng(1);
  const Shape shape{3, 5, 7};
  for (DType dtype : {DType::f64, DType::f32}) {
    Tensor x = random_tensor(shape, rng, dtype, -6.0, 6.0);
    Tensor y = mixed_targets(shape, rng, dtype);
    Tensor w = padding_weights(shape, rng, dtype);
    const double tol = dtype == DType::f64 ? 1e-13 : 1e-6;
    Tensor plain = bce_with_logits(x, y);
    EXPECT_EQ(plain.shape(), Shape{});
    EXPECT_EQ(plain.dtype(), dtype);
    const double plain_ref = naive_bce(x, y, Tensor());
    EXPECT_NEAR(plain.item(), plain_ref, tol * plain_ref);
    const double weighted_ref = naive_bce(x, y, w);
    EXPECT_NEAR(bce_with_logits(x, y, w).item(), weighted_ref, tol * weighted_ref);
    EXPECT_GT(std::fabs(weighted_ref - plain_ref), 1e-3);  // the weights matter here
  }
}

TEST(BceWithLogits, BackwardMatchesFiniteDifferences) {
  std::mt19937_64 rng(2);
  const Shape shape{3, 5, 11};
  Tensor x = random_tensor(shape, rng, DType::f64, -4.0, 4.0).set_requires_grad();
  Tensor y = mixed_targets(shape, rng, DType::f64);
  Tensor w = padding_weights(shape, rng, DType::f64);
  expect_gradients_match(
      [](const std::vector<Tensor>& in) { return bce_with_logits(in[0], in[1]); }, {x, y});
  expect_gradients_match(
      [](const std::vector<Tensor>& in) { return bce_with_logits(in[0], in[1], in[2]); },
      {x, y, w});
  // Targets and weights that require grad still get none.
  y.set_requires_grad();
  w.set_requires_grad();
  tape().backward(bce_with_logits(x, y, w));
  EXPECT_FALSE(y.has_grad());
  EXPECT_FALSE(w.has_grad());
  EXPECT_TRUE(x.has_grad());
}

TEST(BceWithLogits, ExtremeLogitsStayFinite) {
  for (DType dtype : {DType::f32, DType::f64}) {
    Tensor x = Tensor::from_vector<double>({100, -100, 100, -100, 0, 100}, {6})
                   .to(dtype)
                   .set_requires_grad();
    Tensor y = Tensor::from_vector<double>({1, 0, 0, 1, 1, 0.25}, {6}).to(dtype);
    Tensor loss = bce_with_logits(x, y);
    const double ref = naive_bce(x, y, Tensor());  // (0 + 0 + 100 + 100 + log 2 + 75) / 6
    EXPECT_NEAR(loss.item(), ref, 1e-5 * ref);
    tape().backward(loss);
    const std::vector<double> g = testing::as_doubles(x.grad());
    // dl/dx = σ(x) - y, over 6.
    const std::vector<double> expected = {0, 0, 1.0 / 6, -1.0 / 6, -0.5 / 6, 0.75 / 6};
    for (size_t i = 0; i < g.size(); ++i)
      EXPECT_NEAR(g[i], expected[i], 1e-7) << i;
  }
}

TEST(BceWithLogits, ZeroWeightSumIsZeroWithZeroGradient) {
  std::mt19937_64 rng(3);
  Tensor x = random_tensor({4, 3}, rng).set_requires_grad();
  Tensor y = mixed_targets({4, 3}, rng, DType::f64);
  Tensor loss = bce_with_logits(x, y, Tensor::zeros({4, 3}, DType::f64));
  EXPECT_EQ(loss.item(), 0.0);
  tape().backward(loss);
  for (double g : x.grad().to_vector<double>())
    EXPECT_EQ(g, 0.0);
  EXPECT_EQ(bce_with_logits(Tensor::zeros({0}), Tensor::zeros({0})).item(), 0.0);
}

TEST(BceWithLogits, ZeroWeightPositionsAreExcludedExactly) {
  // Weighted by 0/1 equals the plain mean over the kept positions only.
  Tensor x = Tensor::from_vector<double>({0.5, -2.0, 3.0, 1.5}, {4});
  Tensor y = Tensor::from_vector<double>({1, 0, 0.3, 1}, {4});
  Tensor w = Tensor::from_vector<double>({1, 0, 1, 0}, {4});
  Tensor kept_x = Tensor::from_vector<double>({0.5, 3.0}, {2});
  Tensor kept_y = Tensor::from_vector<double>({1, 0.3}, {2});
  EXPECT_DOUBLE_EQ(bce_with_logits(x, y, w).item(), bce_with_logits(kept_x, kept_y).item());
}

TEST(BceWithLogits, LossIsBitIdenticalForAnyThreadCount) {
  std::mt19937_64 rng(4);
  const Shape shape{300, 401};
  Tensor x = random_tensor(shape, rng, DType::f32, -8.0, 8.0);
  Tensor y = mixed_targets(shape, rng, DType::f32);
  Tensor w = padding_weights(shape, rng, DType::f32);
  const int saved = omp_get_max_threads();
  std::vector<double> losses;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    losses.push_back(bce_with_logits(x, y, w).item());
  }
  omp_set_num_threads(saved);
  EXPECT_EQ(losses[1], losses[0]);
  EXPECT_EQ(losses[2], losses[0]);
}

TEST(BceWithLogits, LedgerCountsElementWiseWork) {
  Tensor x = Tensor::zeros({5, 3}).set_requires_grad();
  Tensor y = Tensor::zeros({5, 3});
  flops_ledger().reset();
  Tensor loss = bce_with_logits(x, y);
  EXPECT_EQ(flops_ledger().forward().other, 8.0 * 15);
  tape().backward(loss);
  EXPECT_EQ(flops_ledger().backward().other, 4.0 * 15);
  EXPECT_EQ(flops_ledger().model_total(), 0.0);

  x.set_requires_grad(false);
  loss = bce_with_logits(x, y);
  EXPECT_FALSE(loss.requires_grad());
  EXPECT_EQ(tape().size(), 0u);
}

TEST(BceWithLogits, BadArgumentsNameTheOpAndArgument) {
  Tensor x = Tensor::zeros({2, 3});
  expect_error_containing(
      [&] {
        bce_with_logits(x, Tensor::zeros({3, 2}));
      },
      {"bce_with_logits", "targets", "[3, 2]"});
  expect_error_containing(
      [&] {
        bce_with_logits(x, Tensor::zeros({2, 3}, DType::f64));
      },
      {"bce_with_logits", "targets"});
  expect_error_containing(
      [&] {
        bce_with_logits(x, Tensor::zeros({2, 3}), Tensor::zeros({6}));
      },
      {"bce_with_logits", "weights"});
  expect_error_containing(
      [&] { bce_with_logits(Tensor::zeros({2}, DType::i32), Tensor::zeros({2})); },
      {"bce_with_logits", "logits"});
}

}  // namespace
}  // namespace graft
