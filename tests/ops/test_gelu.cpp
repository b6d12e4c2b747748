#include <gtest/gtest.h>

#include <cmath>

#include "ops/autograd.h"
#include "ops/flops.h"
#include "ops/gelu.h"
#include "ops/matmul.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::expect_gradients_match;
using testing::expect_tensors_near;
using testing::random_tensor;

// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), written out in double.
Tensor naive_gelu(const Tensor& x) {
  std::vector<double> v = testing::as_doubles(x);
  for (double& e : v)
    e = 0.5 * e * (1 + std::tanh(std::sqrt(2 / M_PI) * (e + 0.044715 * e * e * e)));
  return Tensor::from_vector(v, x.shape());
}

TEST(Gelu, ForwardMatchesNaiveReference) {
  std::mt19937_64 rng(1);
  for (DType dtype : {DType::f64, DType::f32}) {
    Tensor x = random_tensor({3, 5, 7}, rng, dtype, -4.0, 4.0);
    const double tol = dtype == DType::f64 ? 1e-12 : 1e-6;
    expect_tensors_near(gelu(x), naive_gelu(x), tol, tol);
  }
}

TEST(Gelu, BitIdenticalToMatmulFusedEpilogue) {
  std::mt19937_64 rng(2);
  const int64_t n = 9;
  Tensor x = random_tensor({5, n}, rng, DType::f32, -4.0, 4.0);
  std::vector<float> eye(n * n, 0.0f);
  for (int64_t i = 0; i < n; ++i)
    eye[i * n + i] = 1.0f;
  // x @ I is exact, so any difference comes from the GELU math itself.
  Tensor fused =
      matmul(x, Tensor::from_vector(eye, {n, n}), Tensor(), {false, false, Epilogue::gelu});
  EXPECT_EQ(gelu(x).to_vector<float>(), fused.to_vector<float>());
}

TEST(Gelu, BackwardMatchesFiniteDifferences) {
  std::mt19937_64 rng(3);
  Tensor x = random_tensor({3, 5, 7}, rng, DType::f64, -3.0, 3.0).set_requires_grad();
  expect_gradients_match([](const std::vector<Tensor>& in) { return gelu(in[0]); }, {x});
}

TEST(Gelu, GradientsAccumulateAndLedgerCounts) {
  std::mt19937_64 rng(4);
  Tensor x = random_tensor({4, 6}, rng).set_requires_grad();
  Tensor seed = random_tensor({4, 6}, rng);
  flops_ledger().reset();
  tape().backward(gelu(x), seed);
  EXPECT_EQ(flops_ledger().forward().other, 9.0 * 24);
  EXPECT_EQ(flops_ledger().backward().other, 16.0 * 24);
  std::vector<double> once = x.grad().to_vector<double>();
  tape().backward(gelu(x), seed);
  std::vector<double> twice = x.grad().to_vector<double>();
  for (size_t i = 0; i < once.size(); ++i)
    EXPECT_DOUBLE_EQ(twice[i], 2 * once[i]);
}

TEST(Gelu, RejectsIntegerInput) {
  try {
    gelu(Tensor::zeros({3}, DType::i32));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gelu: x"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace graft
