#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <functional>

#include "ops/autograd.h"
#include "ops/flops.h"
#include "ops/rms_norm.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::expect_gradients_match;
using testing::expect_tensors_near;
using testing::random_tensor;

// Per row: x / sqrt(mean(x^2) + eps) * w, by loops in double.
Tensor naive_rms_norm(const Tensor& x, const Tensor& w, double eps) {
  std::vector<double> xv = testing::as_doubles(x), wv = testing::as_doubles(w);
  const int64_t d = x.dim(-1), rows = x.numel() / d;
  std::vector<double> out(xv.size());
  for (int64_t r = 0; r < rows; ++r) {
    double ms = 0;
    for (int64_t j = 0; j < d; ++j)
      ms += xv[r * d + j] * xv[r * d + j] / d;
    for (int64_t j = 0; j < d; ++j)
      out[r * d + j] = xv[r * d + j] / std::sqrt(ms + eps) * wv[j];
  }
  return Tensor::from_vector(out, x.shape());
}

TEST(RmsNorm, ForwardMatchesNaiveReference) {
  std::mt19937_64 rng(1);
  for (DType dtype : {DType::f64, DType::f32}) {
    // A positive offset: subtracting the mean (as layer norm does) would differ.
    Tensor x = random_tensor({3, 5, 7}, rng, dtype, 0.5, 2.0);
    Tensor w = random_tensor({7}, rng, dtype);
    const double tol = dtype == DType::f64 ? 1e-12 : 1e-5;
    expect_tensors_near(rms_norm(x, w, 1e-3), naive_rms_norm(x, w, 1e-3), tol, tol);
  }
}

TEST(RmsNorm, BackwardMatchesFiniteDifferences) {
  std::mt19937_64 rng(2);
  Tensor x = random_tensor({3, 5, 7}, rng).set_requires_grad();
  Tensor w = random_tensor({7}, rng).set_requires_grad();
  expect_gradients_match([](const std::vector<Tensor>& in) { return rms_norm(in[0], in[1], 1e-3); },
                         {x, w});
}

TEST(RmsNorm, GradientsAccumulateAcrossBackwardPasses) {
  std::mt19937_64 rng(3);
  Tensor x = random_tensor({4, 6}, rng).set_requires_grad();
  Tensor w = random_tensor({6}, rng).set_requires_grad();
  Tensor seed = random_tensor({4, 6}, rng);
  tape().backward(rms_norm(x, w), seed);
  std::vector<Tensor> first{x.grad().clone(), w.grad().clone()};
  tape().backward(rms_norm(x, w), seed);
  std::vector<Tensor> twice{x.grad(), w.grad()};
  for (size_t k = 0; k < first.size(); ++k) {
    std::vector<double> once = first[k].to_vector<double>(), two = twice[k].to_vector<double>();
    for (size_t i = 0; i < once.size(); ++i)
      EXPECT_DOUBLE_EQ(two[i], 2 * once[i]);
  }
}

TEST(RmsNorm, GradientsDoNotDependOnThreadCount) {
  std::mt19937_64 rng(4);
  Tensor x = random_tensor({300, 257}, rng, DType::f32).set_requires_grad();
  Tensor w = random_tensor({257}, rng, DType::f32).set_requires_grad();
  Tensor seed = random_tensor({300, 257}, rng, DType::f32);
  auto grads_with_threads = [&](int threads) {
    omp_set_num_threads(threads);
    x.zero_grad();
    w.zero_grad();
    tape().backward(rms_norm(x, w), seed);
    return std::vector<std::vector<float>>{x.grad().to_vector<float>(),
                                           w.grad().to_vector<float>()};
  };
  const int saved = omp_get_max_threads();
  const auto one = grads_with_threads(1);
  const auto two = grads_with_threads(2);
  omp_set_num_threads(saved);
  EXPECT_EQ(one, two);
}

TEST(RmsNorm, LedgerCountsOnlyGradientsComputed) {
  std::mt19937_64 rng(5);
  Tensor x = random_tensor({4, 9}, rng, DType::f32).set_requires_grad();
  Tensor w = random_tensor({9}, rng, DType::f32);
  flops_ledger().reset();
  Tensor y = rms_norm(x, w);
  EXPECT_EQ(flops_ledger().forward().other, 4.0 * 36);
  tape().backward(y, Tensor::full(y.shape(), 1.0, DType::f32));
  EXPECT_EQ(flops_ledger().backward().other, 7.0 * 36);  // dx only
  EXPECT_FALSE(w.has_grad());
}

TEST(RmsNorm, BadArgumentsNameTheOpAndArgument) {
  auto expect_error = [](const std::function<void()>& call, const std::string& argument) {
    try {
      call();
      FAIL() << "expected an error about " << argument;
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("rms_norm"), std::string::npos) << what;
      EXPECT_NE(what.find(argument), std::string::npos) << what;
    }
  };
  Tensor x = Tensor::zeros({2, 4});
  expect_error([&] { rms_norm(x, Tensor::zeros({2, 4})); }, "weight");
  expect_error([&] { rms_norm(x, Tensor()); }, "weight");
  expect_error([&] { rms_norm(x, Tensor::zeros({4}), std::nan("")); }, "eps");
  expect_error([&] { rms_norm(Tensor::zeros({2, 0}), Tensor::zeros({0})); }, "x");
}

}  // namespace
}  // namespace graft
