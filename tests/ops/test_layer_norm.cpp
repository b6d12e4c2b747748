#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <functional>

#include "ops/autograd.h"
#include "ops/flops.h"
#include "ops/layer_norm.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::expect_gradients_match;
using testing::expect_tensors_near;
using testing::random_tensor;

// Per row: (x - mean) / sqrt(biased var + eps) * w + b, by loops in double.
Tensor naive_layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  std::vector<double> xv = testing::as_doubles(x), wv = testing::as_doubles(w);
  std::vector<double> bv = b.defined() ? testing::as_doubles(b) : std::vector<double>(wv.size());
  const int64_t d = x.dim(-1), rows = x.numel() / d;
  std::vector<double> out(xv.size());
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < d; ++j)
      mean += xv[r * d + j] / d;
    for (int64_t j = 0; j < d; ++j)
      var += (xv[r * d + j] - mean) * (xv[r * d + j] - mean) / d;
    for (int64_t j = 0; j < d; ++j) {
      out[r * d + j] = (xv[r * d + j] - mean) / std::sqrt(var + eps) * wv[j] + bv[j];
    }
  }
  return Tensor::from_vector(out, x.shape());
}

TEST(LayerNorm, ForwardMatchesNaiveReference) {
  std::mt19937_64 rng(1);
  for (DType dtype : {DType::f64, DType::f32}) {
    for (bool with_bias : {true, false}) {
      // An offset mean checks that the variance is taken about the mean.
      Tensor x = random_tensor({3, 5, 7}, rng, dtype, 2.0, 5.0);
      Tensor w = random_tensor({7}, rng, dtype);
      Tensor b = with_bias ? random_tensor({7}, rng, dtype) : Tensor();
      const double tol = dtype == DType::f64 ? 1e-12 : 1e-5;
      expect_tensors_near(layer_norm(x, w, b, 1e-3), naive_layer_norm(x, w, b, 1e-3), tol, tol);
    }
  }
}

TEST(LayerNorm, BackwardMatchesFiniteDifferences) {
  std::mt19937_64 rng(2);
  Tensor x = random_tensor({3, 5, 7}, rng).set_requires_grad();
  Tensor w = random_tensor({7}, rng).set_requires_grad();
  Tensor b = random_tensor({7}, rng).set_requires_grad();
  expect_gradients_match(
      [](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], in[2], 1e-3); },
      {x, w, b});
  expect_gradients_match(
      [](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], Tensor(), 1e-3); },
      {x, w});
}

TEST(LayerNorm, GradientsAccumulateAcrossBackwardPasses) {
  std::mt19937_64 rng(3);
  Tensor x = random_tensor({4, 6}, rng).set_requires_grad();
  Tensor w = random_tensor({6}, rng).set_requires_grad();
  Tensor b = random_tensor({6}, rng).set_requires_grad();
  Tensor seed = random_tensor({4, 6}, rng);
  tape().backward(layer_norm(x, w, b), seed);
  std::vector<Tensor> first{x.grad().clone(), w.grad().clone(), b.grad().clone()};
  tape().backward(layer_norm(x, w, b), seed);
  std::vector<Tensor> twice{x.grad(), w.grad(), b.grad()};
  for (size_t k = 0; k < first.size(); ++k) {
    std::vector<double> once = first[k].to_vector<double>(), two = twice[k].to_vector<double>();
    for (size_t i = 0; i < once.size(); ++i)
      EXPECT_DOUBLE_EQ(two[i], 2 * once[i]);
  }
}

TEST(LayerNorm, GradientsDoNotDependOnThreadCount) {
  std::mt19937_64 rng(4);
  Tensor x = random_tensor({300, 257}, rng, DType::f32).set_requires_grad();
  Tensor w = random_tensor({257}, rng, DType::f32).set_requires_grad();
  Tensor b = random_tensor({257}, rng, DType::f32).set_requires_grad();
  Tensor seed = random_tensor({300, 257}, rng, DType::f32);
  auto grads_with_threads = [&](int threads) {
    omp_set_num_threads(threads);
    x.zero_grad();
    w.zero_grad();
    b.zero_grad();
    tape().backward(layer_norm(x, w, b), seed);
    return std::vector<std::vector<float>>{x.grad().to_vector<float>(), w.grad().to_vector<float>(),
                                           b.grad().to_vector<float>()};
  };
  const int saved = omp_get_max_threads();
  const auto one = grads_with_threads(1);
  const auto two = grads_with_threads(2);
  omp_set_num_threads(saved);
  EXPECT_EQ(one, two);
}

TEST(LayerNorm, LedgerCountsOnlyGradientsComputed) {
  std::mt19937_64 rng(5);
  Tensor x = random_tensor({4, 9}, rng, DType::f32);
  Tensor w = random_tensor({9}, rng, DType::f32).set_requires_grad();
  Tensor b = random_tensor({9}, rng, DType::f32);
  flops_ledger().reset();
  Tensor y = layer_norm(x, w, b);
  EXPECT_EQ(flops_ledger().forward().other, 8.0 * 36);
  tape().backward(y, Tensor::full(y.shape(), 1.0, DType::f32));
  EXPECT_EQ(flops_ledger().backward().other, 2.0 * 36);  // dweight only
  EXPECT_FALSE(x.has_grad());
  EXPECT_FALSE(b.has_grad());

  flops_ledger().reset();
  layer_norm(x, w, Tensor());
  EXPECT_EQ(flops_ledger().forward().other, 7.0 * 36);
}

TEST(LayerNorm, BadArgumentsNameTheOpAndArgument) {
  Tensor x = Tensor::zeros({2, 4});
  auto expect_error = [](const std::function<void()>& call, const std::string& argument) {
    try {
      call();
      FAIL() << "expected an error about " << argument;
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("layer_norm"), std::string::npos) << what;
      EXPECT_NE(what.find(argument), std::string::npos) << what;
    }
  };
  expect_error([&] { layer_norm(x, Tensor::zeros({3}), Tensor()); }, "weight");
  expect_error([&] { layer_norm(x, Tensor::zeros({4}), Tensor::zeros({5})); }, "bias");
  expect_error([&] { layer_norm(x, Tensor::zeros({4}, DType::f64), Tensor()); }, "weight");
  expect_error([&] { layer_norm(x, Tensor::zeros({4}), Tensor(), -1.0); }, "eps");
  expect_error(
      [&] {
        layer_norm(Tensor::zeros({2, 4}, DType::i32), Tensor::zeros({4}), Tensor());
      },
      "x");
}

}  // namespace
}  // namespace graft
