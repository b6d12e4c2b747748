#include <gtest/gtest.h>
#include <omp.h>

#include <functional>

#include "ops/autograd.h"
#include "ops/elementwise.h"
#include "ops/flops.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::expect_gradients_match;
using testing::expect_tensors_near;
using testing::random_tensor;

void expect_error(const std::function<void()>& call, const std::string& op,
                  const std::string& argument) {
  try {
    call();
    FAIL() << "expected an error from " << op;
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(op + ":"), std::string::npos) << what;
    EXPECT_NE(what.find(argument), std::string::npos) << what;
  }
}

TEST(Add, ForwardBroadcastsOverLeadingDims) {
  std::mt19937_64 rng(1);
  for (DType dtype : {DType::f64, DType::f32}) {
    Tensor a = random_tensor({2, 3, 4}, rng, dtype);
    for (const Shape& b_shape : {Shape{2, 3, 4}, Shape{3, 4}, Shape{4}}) {
      Tensor b = random_tensor(b_shape, rng, dtype);
      std::vector<double> av = testing::as_doubles(a), bv = testing::as_doubles(b);
      for (size_t i = 0; i < av.size(); ++i)
        av[i] += bv[i % bv.size()];
      // f32 rounds the exact sum once: half an ulp, 2^-24 relative.
      const double tol = dtype == DType::f64 ? 0 : 1e-7;
      expect_tensors_near(add(a, b), Tensor::from_vector(av, a.shape()), tol, tol);
    }
  }
}

TEST(Add, BackwardMatchesFiniteDifferences) {
  std::mt19937_64 rng(2);
  for (const Shape& b_shape : {Shape{3, 5, 7}, Shape{5, 7}, Shape{7}}) {
    Tensor a = random_tensor({3, 5, 7}, rng).set_requires_grad();
    Tensor b = random_tensor(b_shape, rng).set_requires_grad();
    expect_gradients_match([](const std::vector<Tensor>& in) { return add(in[0], in[1]); }, {a, b});
  }
}

TEST(Add, BroadcastGradientIsUpstreamSummedOverLeadingDims) {
  std::mt19937_64 rng(3);
  Tensor a = random_tensor({3, 5, 7}, rng).set_requires_grad();
  Tensor b = random_tensor({5, 7}, rng).set_requires_grad();
  Tensor seed = random_tensor({3, 5, 7}, rng);
  tape().backward(add(a, b), seed);
  std::vector<double> s = seed.to_vector<double>(), expected(35, 0.0);
  for (size_t i = 0; i < s.size(); ++i)
    expected[i % 35] += s[i];
  expect_tensors_near(b.grad(), Tensor::from_vector(expected, {5, 7}), 1e-14, 1e-14);
  expect_tensors_near(a.grad(), seed, 0, 0);
}

TEST(Add, BroadcastGradientDoesNotDependOnThreadCount) {
  std::mt19937_64 rng(4);
  Tensor a = random_tensor({700, 129}, rng, DType::f32).set_requires_grad();
  Tensor b = random_tensor({129}, rng, DType::f32).set_requires_grad();
  Tensor seed = random_tensor({700, 129}, rng, DType::f32);
  auto grad_with_threads = [&](int threads) {
    omp_set_num_threads(threads);
    b.zero_grad();
    tape().backward(add(a, b), seed);
    return b.grad().to_vector<float>();
  };
  const int saved = omp_get_max_threads();
  const auto one = grad_with_threads(1);
  const auto two = grad_with_threads(2);
  omp_set_num_threads(saved);
  EXPECT_EQ(one, two);
}

TEST(Add, SameTensorTwiceGetsBothGradients) {
  std::mt19937_64 rng(5);
  Tensor a = random_tensor({3, 4}, rng).set_requires_grad();
  Tensor seed = random_tensor({3, 4}, rng);
  tape().backward(add(a, a), seed);
  std::vector<double> s = seed.to_vector<double>(), g = a.grad().to_vector<double>();
  for (size_t i = 0; i < s.size(); ++i)
    EXPECT_DOUBLE_EQ(g[i], 2 * s[i]);
}

TEST(Scale, ForwardAndBackward) {
  std::mt19937_64 rng(6);
  Tensor x = random_tensor({3, 5, 7}, rng).set_requires_grad();
  std::vector<double> expected = x.to_vector<double>();
  for (double& e : expected)
    e *= -0.375;
  expect_tensors_near(scale(x, -0.375), Tensor::from_vector(expected, x.shape()), 0, 0);
  tape().clear();
  expect_gradients_match([](const std::vector<Tensor>& in) { return scale(in[0], -0.375); }, {x});
}

TEST(Mul, ForwardMatchesNaiveReference) {
  std::mt19937_64 rng(7);
  for (DType dtype : {DType::f64, DType::f32}) {
    Tensor a = random_tensor({3, 5, 7}, rng, dtype);
    Tensor b = random_tensor({3, 5, 7}, rng, dtype);
    std::vector<double> av = testing::as_doubles(a), bv = testing::as_doubles(b);
    for (size_t i = 0; i < av.size(); ++i)
      av[i] *= bv[i];
    const double tol = dtype == DType::f64 ? 0 : 1e-7;
    expect_tensors_near(mul(a, b), Tensor::from_vector(av, a.shape()), tol, tol);
  }
}

TEST(Mul, BackwardMatchesFiniteDifferences) {
  std::mt19937_64 rng(8);
  Tensor a = random_tensor({3, 5, 7}, rng).set_requires_grad();
  Tensor b = random_tensor({3, 5, 7}, rng).set_requires_grad();
  expect_gradients_match([](const std::vector<Tensor>& in) { return mul(in[0], in[1]); }, {a, b});
  // Squaring through one operand used twice: d(x*x) = 2x.
  expect_gradients_match([](const std::vector<Tensor>& in) { return mul(in[0], in[0]); }, {a});
}

TEST(Elementwise, LedgerCounts) {
  std::mt19937_64 rng(9);
  Tensor a = random_tensor({4, 5}, rng, DType::f32).set_requires_grad();
  Tensor b = random_tensor({5}, rng, DType::f32).set_requires_grad();
  Tensor c = random_tensor({4, 5}, rng, DType::f32);
  flops_ledger().reset();
  Tensor y = scale(mul(add(a, b), c), 2.0);
  EXPECT_EQ(flops_ledger().forward().other, 3.0 * 20);
  tape().backward(y, Tensor::full(y.shape(), 1.0, DType::f32));
  // scale 20, mul 20 (c is frozen), add's reduction of b 20 - 5.
  EXPECT_EQ(flops_ledger().backward().other, 20.0 + 20.0 + 15.0);
  EXPECT_FALSE(c.has_grad());
}

TEST(Elementwise, BadArgumentsNameTheOpAndArgument) {
  Tensor a = Tensor::zeros({2, 3});
  expect_error([&] { add(a, Tensor::zeros({2})); }, "add", "b");
  expect_error([&] { add(a, Tensor::zeros({1, 2, 3})); }, "add", "b");
  expect_error([&] { add(a, Tensor::zeros({3}, DType::f64)); }, "add", "b");
  expect_error([&] { mul(a, Tensor::zeros({3})); }, "mul", "b");
  expect_error([&] { mul(Tensor(), a); }, "mul", "a");
  expect_error([&] { scale(Tensor::zeros({2}, DType::i32), 2.0); }, "scale", "x");
}

}  // namespace
}  // namespace graft
