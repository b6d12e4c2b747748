#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>

#include "ops/grad_norm.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::random_tensor;

double direct_norm(const std::vector<Tensor>& grads) {
  long double s = 0;
  for (const Tensor& g : grads) {
    if (!g.defined()) continue;
    for (double x : testing::as_doubles(g))
      s += static_cast<long double>(x) * x;
  }
  return static_cast<double>(std::sqrt(s));
}

// Three params of odd shapes and both float dtypes, one without a gradient.
std::vector<Tensor> make_params(std::mt19937_64& rng, double scale) {
  std::vector<Tensor> params = {random_tensor({3, 5}, rng).set_requires_grad(),
                                random_tensor({7}, rng, DType::f32).set_requires_grad(),
                                random_tensor({2, 2}, rng).set_requires_grad(),
                                random_tensor({4}, rng).set_requires_grad()};
  params[0].set_grad(random_tensor({3, 5}, rng, DType::f64, -scale, scale));
  params[1].set_grad(random_tensor({7}, rng, DType::f32, -scale, scale));
  params[3].set_grad(random_tensor({4}, rng, DType::f64, -scale, scale));
  return params;
}

std::vector<Tensor> grads_of(const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  for (const Tensor& p : params)
    grads.push_back(p.grad());
  return grads;
}

TEST(GradNorm, GlobalNormMatchesDirectComputationSkippingUndefined) {
  std::mt19937_64 rng(1);
  std::vector<Tensor> grads = grads_of(make_params(rng, 3.0));
  ASSERT_FALSE(grads[2].defined());
  EXPECT_NEAR(global_grad_norm(grads), direct_norm(grads), 1e-14 * direct_norm(grads));
  EXPECT_EQ(global_grad_norm({}), 0.0);
  EXPECT_EQ(global_grad_norm({Tensor(), Tensor::zeros({3})}), 0.0);
  EXPECT_DOUBLE_EQ(global_grad_norm({Tensor::from_vector<double>({3, 4}, {2})}), 5.0);
}

TEST(GradNorm, GlobalNormIsBitIdenticalForAnyThreadCount) {
  std::mt19937_64 rng(2);
  std::vector<Tensor> grads = {random_tensor({400, 300}, rng, DType::f32),
                               random_tensor({50000}, rng)};
  const int saved = omp_get_max_threads();
  std::vector<double> norms;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    norms.push_back(global_grad_norm(grads));
  }
  omp_set_num_threads(saved);
  EXPECT_EQ(norms[1], norms[0]);
  EXPECT_EQ(norms[2], norms[0]);
  EXPECT_NEAR(norms[0], direct_norm(grads), 1e-12 * norms[0]);
}

TEST(GradNorm, ClipScalesEveryGradientToMaxNorm) {
  std::mt19937_64 rng(3);
  std::vector<Tensor> params = make_params(rng, 3.0);
  std::vector<Tensor> before;
  for (const Tensor& p : params)
    before.push_back(p.has_grad() ? p.grad().clone() : Tensor());
  const double norm = direct_norm(grads_of(params));
  const double max_norm = 0.25 * norm;
  const double returned = clip_grad_norm(params, max_norm);
  EXPECT_NEAR(returned, norm, 1e-14 * norm);  // the norm before clipping
  EXPECT_NEAR(direct_norm(grads_of(params)), max_norm, 1e-6 * max_norm);
  EXPECT_NEAR(global_grad_norm(grads_of(params)), max_norm, 1e-6 * max_norm);
  // Every gradient scaled by one common factor, directions kept.
  const double factor = max_norm / (norm + 1e-6);
  for (size_t i = 0; i < params.size(); ++i) {
    if (!before[i].defined()) {
      EXPECT_FALSE(params[i].has_grad());
      continue;
    }
    const double tol = params[i].dtype() == DType::f32 ? 1e-6 : 1e-14;
    EXPECT_EQ(params[i].grad().dtype(), before[i].dtype());
    std::vector<double> got = testing::as_doubles(params[i].grad());
    std::vector<double> was = testing::as_doubles(before[i]);
    for (size_t j = 0; j < got.size(); ++j)
      EXPECT_NEAR(got[j], was[j] * factor, tol * std::fabs(was[j]) + 1e-12);
  }
}

TEST(GradNorm, ClipLeavesGradientsUntouchedBelowMaxNorm) {
  std::mt19937_64 rng(4);
  std::vector<Tensor> params = make_params(rng, 0.1);
  std::vector<std::vector<double>> before;
  for (const Tensor& p : params) {
    before.push_back(p.has_grad() ? testing::as_doubles(p.grad()) : std::vector<double>());
  }
  const double norm = direct_norm(grads_of(params));
  EXPECT_NEAR(clip_grad_norm(params, norm * 1.01), norm, 1e-14 * norm);
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].has_grad()) {
      EXPECT_EQ(testing::as_doubles(params[i].grad()), before[i]);
    }
  }
}

TEST(GradNorm, NonFiniteNormIsReturnedAndGradientsKept) {
  Tensor p = Tensor::zeros({2}, DType::f64).set_requires_grad();
  p.set_grad(Tensor::from_vector<double>({std::numeric_limits<double>::infinity(), 1.0}, {2}));
  EXPECT_TRUE(std::isinf(clip_grad_norm({p}, 1.0)));
  EXPECT_EQ(p.grad().to_vector<double>()[1], 1.0);
}

TEST(GradNorm, BadArgumentsNameTheOp) {
  Tensor p = Tensor::zeros({2}).set_requires_grad();
  p.set_grad(Tensor::zeros({2}));
  for (double bad : {0.0, -1.0, std::nan("")}) {
    try {
      clip_grad_norm({p}, bad);
      ADD_FAILURE() << "expected an error for max_norm " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("clip_grad_norm"), std::string::npos) << e.what();
    }
  }
  try {
    global_grad_norm({Tensor::zeros({2}), Tensor::zeros({3}, DType::i32)});
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("global_grad_norm: grads[1]"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace graft
