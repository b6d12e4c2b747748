#include <gtest/gtest.h>

#include <cmath>

#include "ops/adamw.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::expect_error_containing;

using testing::random_tensor;

// The update exactly as the paper's algorithm reads, in double, one element at
// a time.
struct Reference {
  std::vector<double> p, m, v;
  void step(const std::vector<double>& g, int64_t t, const AdamWOptions& o) {
    for (size_t i = 0; i < p.size(); ++i) {
      p[i] -= o.lr * o.weight_decay * p[i];
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g[i];
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g[i] * g[i];
      const double m_hat = m[i] / (1 - std::pow(o.beta1, static_cast<double>(t)));
      const double v_hat = v[i] / (1 - std::pow(o.beta2, static_cast<double>(t)));
      p[i] -= o.lr * m_hat / (std::sqrt(v_hat) + o.eps);
    }
  }
};

void expect_near_all(const Tensor& actual, const std::vector<double>& expected, double rtol,
                     double atol) {
  testing::expect_tensors_near(actual, Tensor::from_vector(expected, actual.shape()), rtol, atol);
}

TEST(AdamW, SeveralStepsMatchDoubleReference) {
  AdamWOptions o;
  o.lr = 3e-2;
  o.beta1 = 0.8;
  o.beta2 = 0.95;
  o.eps = 1e-6;
  o.weight_decay = 0.1;
  for (DType dtype : {DType::f64, DType::f32}) {
    std::mt19937_64 rng(1);
    const Shape shape{7, 13};
    Tensor p = random_tensor(shape, rng, dtype);
    Tensor m = Tensor::zeros(shape, dtype), v = Tensor::zeros(shape, dtype);
    Reference ref{testing::as_doubles(p), std::vector<double>(91, 0.0),
                  std::vector<double>(91, 0.0)};
    for (int64_t t = 1; t <= 5; ++t) {
      Tensor g = random_tensor(shape, rng, dtype, -2.0, 2.0);
      // Rounded to the tensor's dtype first, so both see the same gradient.
      ref.step(testing::as_doubles(g), t, o);
      adamw_step(p, g, m, v, t, o);
    }
    const double tol = dtype == DType::f64 ? 1e-13 : 2e-6;
    expect_near_all(p, ref.p, tol, tol);
    expect_near_all(m, ref.m, tol, tol);
    expect_near_all(v, ref.v, tol, tol);
  }
}

TEST(AdamW, FirstStepMovesEachParameterByAboutLr) {
  // With m, v zero, bias correction makes step 1 exactly lr·sign(g) (up to eps).
  Tensor p = Tensor::zeros({4}, DType::f64);
  Tensor g = Tensor::from_vector<double>({3.0, -0.01, 250.0, -7.0}, {4});
  Tensor m = Tensor::zeros({4}, DType::f64), v = Tensor::zeros({4}, DType::f64);
  AdamWOptions o;
  o.lr = 0.5;
  o.eps = 1e-12;
  adamw_step(p, g, m, v, 1, o);
  expect_near_all(p, {-0.5, 0.5, -0.5, 0.5}, 1e-9, 0);
}

TEST(AdamW, WeightDecayIsDecoupledFromTheGradient) {
  // A zero gradient leaves m and v at zero, yet the parameter still decays by
  // exactly (1 - lr·wd): L2-in-the-gradient would not move it at all through
  // m / sqrt(v), and would not decay at this rate.
  for (DType dtype : {DType::f64, DType::f32}) {
    Tensor p = Tensor::from_vector<double>({2.0, -4.0, 0.5}, {3}).to(dtype);
    Tensor g = Tensor::zeros({3}, dtype);
    Tensor m = Tensor::zeros({3}, dtype), v = Tensor::zeros({3}, dtype);
    AdamWOptions o;
    o.lr = 0.1;
    o.weight_decay = 0.5;
    for (int64_t t = 1; t <= 3; ++t)
      adamw_step(p, g, m, v, t, o);
    const double f = std::pow(1 - 0.1 * 0.5, 3);
    expect_near_all(p, {2.0 * f, -4.0 * f, 0.5 * f}, 1e-6, 0);
    for (double x : testing::as_doubles(m))
      EXPECT_EQ(x, 0.0);
    for (double x : testing::as_doubles(v))
      EXPECT_EQ(x, 0.0);
  }
  // And with weight_decay 0 a zero gradient leaves the parameter untouched.
  Tensor p = Tensor::from_vector<double>({1.5}, {1});
  Tensor z = Tensor::zeros({1}, DType::f64);
  AdamWOptions no_decay;
  no_decay.weight_decay = 0;
  adamw_step(p, z, z.clone(), z.clone(), 1, no_decay);
  EXPECT_EQ(p.item(), 1.5);
}

TEST(AdamW, LargeTensorTakesTheParallelPathIdentically) {
  // Above kParallelElements: every element must get the same update as the
  // serial reference, whichever thread runs it.
  std::mt19937_64 rng(2);
  const Shape shape{300, 301};
  Tensor p = random_tensor(shape, rng);
  Tensor g = random_tensor(shape, rng);
  Tensor m = random_tensor(shape, rng, DType::f64, -0.1, 0.1);
  Tensor v = random_tensor(shape, rng, DType::f64, 0.0, 0.1);
  Reference ref{testing::as_doubles(p), testing::as_doubles(m), testing::as_doubles(v)};
  AdamWOptions o;
  ref.step(testing::as_doubles(g), 7, o);
  adamw_step(p, g, m, v, 7, o);
  expect_near_all(p, ref.p, 1e-13, 1e-15);
}

TEST(AdamW, BadArgumentsNameTheOpAndArgument) {
  Tensor p = Tensor::zeros({2, 3});
  Tensor ok = Tensor::zeros({2, 3});
  AdamWOptions o;
  expect_error_containing(
      [&] {
        adamw_step(p, Tensor::zeros({3, 2}), ok, ok, 1, o);
      },
      {"adamw_step", "grad"});
  expect_error_containing(
      [&] {
        adamw_step(p, ok, Tensor::zeros({2, 3}, DType::f64), ok, 1, o);
      },
      {"adamw_step", "m"});
  expect_error_containing([&] { adamw_step(p, ok, ok, Tensor::zeros({6}), 1, o); },
                          {"adamw_step", "v"});
  expect_error_containing([&] { adamw_step(p, Tensor(), ok, ok, 1, o); },
                          {"adamw_step", "grad", "undefined"});
  expect_error_containing([&] { adamw_step(p, ok, ok, ok, 0, o); }, {"adamw_step", "step"});
  AdamWOptions bad = o;
  bad.beta2 = 1.0;
  expect_error_containing([&] { adamw_step(p, ok, ok, ok, 1, bad); }, {"adamw_step", "beta2"});
}

}  // namespace
}  // namespace graft
