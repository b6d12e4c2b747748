#include <gtest/gtest.h>

#include "ops/autograd.h"
#include "ops/cpu/gelu_math.h"
#include "ops/flops.h"
#include "ops/matmul.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::expect_gradients_match;
using testing::expect_tensors_near;
using testing::random_tensor;

// out[i,j] = gelu?(sum_k op(a)[i,k] op(b)[k,j] + bias[j]), by loops in double.
Tensor naive_matmul(const Tensor& a, const Tensor& b, const Tensor& bias, MatmulOptions o) {
  std::vector<double> av = testing::as_doubles(a), bv = testing::as_doubles(b);
  const int64_t k = o.transpose_a ? a.dim(0) : a.dim(-1);
  const int64_t m = o.transpose_a ? a.dim(1) : a.numel() / k;
  const int64_t n = o.transpose_b ? b.dim(0) : b.dim(1);
  std::vector<double> out(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = bias.defined() ? testing::as_doubles(bias)[j] : 0.0;
      for (int64_t p = 0; p < k; ++p) {
        const double x = o.transpose_a ? av[p * m + i] : av[i * k + p];
        const double y = o.transpose_b ? bv[j * k + p] : bv[p * n + j];
        s += x * y;
      }
      out[i * n + j] = o.epilogue == Epilogue::gelu ? cpu::gelu_value(s) : s;
    }
  }
  return Tensor::from_vector(out, {m, n});
}

struct Case {
  bool ta, tb, bias;
  Epilogue epilogue;
};

class MatmulCases : public ::testing::TestWithParam<Case> {};

TEST_P(MatmulCases, ForwardMatchesNaiveReference) {
  const Case c = GetParam();
  std::mt19937_64 rng(1);
  const int64_t m = 13, k = 7, n = 5;
  for (DType dtype : {DType::f64, DType::f32}) {
    Tensor a = random_tensor(c.ta ? Shape{k, m} : Shape{m, k}, rng, dtype);
    Tensor b = random_tensor(c.tb ? Shape{n, k} : Shape{k, n}, rng, dtype);
    Tensor bias = c.bias ? random_tensor({n}, rng, dtype) : Tensor();
    MatmulOptions o{c.ta, c.tb, c.epilogue};
    Tensor out = matmul(a, b, bias, o);
    const double tol = dtype == DType::f64 ? 1e-12 : 1e-5;
    expect_tensors_near(out, naive_matmul(a, b, bias, o), tol, tol);
  }
}

TEST_P(MatmulCases, BackwardMatchesFiniteDifferences) {
  const Case c = GetParam();
  std::mt19937_64 rng(2);
  const int64_t m = 6, k = 5, n = 3;
  Tensor a = random_tensor(c.ta ? Shape{k, m} : Shape{m, k}, rng).set_requires_grad();
  Tensor b = random_tensor(c.tb ? Shape{n, k} : Shape{k, n}, rng).set_requires_grad();
  Tensor bias = c.bias ? random_tensor({n}, rng).set_requires_grad() : Tensor();
  MatmulOptions o{c.ta, c.tb, c.epilogue};
  std::vector<Tensor> inputs{a, b};
  if (c.bias) inputs.push_back(bias);
  expect_gradients_match(
      [&](const std::vector<Tensor>& in) {
        return matmul(in[0], in[1], c.bias ? in[2] : Tensor(), o);
      },
      inputs);
}

INSTANTIATE_TEST_SUITE_P(AllTransposes, MatmulCases,
                         ::testing::Values(Case{false, false, false, Epilogue::none},
                                           Case{false, true, true, Epilogue::none},
                                           Case{true, false, true, Epilogue::none},
                                           Case{true, true, false, Epilogue::none},
                                           Case{false, true, true, Epilogue::gelu},
                                           Case{false, false, true, Epilogue::gelu},
                                           Case{true, true, true, Epilogue::gelu}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           const Case& c = info.param;
                           return std::string(c.ta ? "At" : "A") + (c.tb ? "Bt" : "B") +
                                  (c.bias ? "_bias" : "") +
                                  (c.epilogue == Epilogue::gelu ? "_gelu" : "");
                         });

TEST(Matmul, LeadingDimensionsFlattenAndLinearMatchesTorchLayout) {
  std::mt19937_64 rng(3);
  Tensor x = random_tensor({2, 3, 5}, rng).set_requires_grad();
  Tensor w = random_tensor({4, 5}, rng).set_requires_grad();  // [out, in]
  Tensor bias = random_tensor({4}, rng).set_requires_grad();
  Tensor y = linear(x, w, bias, Epilogue::gelu);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 4}));
  expect_tensors_near(y.reshape({6, 4}),
                      naive_matmul(x.reshape({6, 5}), w, bias, {false, true, Epilogue::gelu}),
                      1e-12, 1e-12);
  tape().clear();
  expect_gradients_match(
      [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2], Epilogue::gelu); },
      {x, w, bias});
}

TEST(Matmul, LedgerCountsExactlyTheGemmsExecuted) {
  std::mt19937_64 rng(4);
  const int64_t m = 9, k = 11, n = 7;
  Tensor a = random_tensor({m, k}, rng, DType::f32).set_requires_grad();
  Tensor b = random_tensor({n, k}, rng, DType::f32).set_requires_grad();
  flops_ledger().reset();
  Tensor y = linear(a, b);
  EXPECT_EQ(flops_ledger().forward().matmul, 2.0 * m * n * k);
  tape().backward(y, Tensor::full(y.shape(), 1.0, DType::f32));
  EXPECT_EQ(flops_ledger().backward().matmul, 4.0 * m * n * k);

  // A frozen weight: only dA is computed and counted.
  b.set_requires_grad(false);
  b.zero_grad();
  a.zero_grad();
  flops_ledger().reset();
  y = linear(a, b);
  tape().backward(y, Tensor::full(y.shape(), 1.0, DType::f32));
  EXPECT_EQ(flops_ledger().backward().matmul, 2.0 * m * n * k);
  EXPECT_FALSE(b.has_grad());
  EXPECT_TRUE(a.has_grad());

  // Nothing requires a gradient: nothing recorded, no backward work possible.
  a.set_requires_grad(false);
  y = linear(a, b);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(tape().size(), 0u);
}

TEST(Matmul, GradientsAccumulateAcrossBackwardPasses) {
  std::mt19937_64 rng(5);
  Tensor a = random_tensor({4, 3}, rng).set_requires_grad();
  Tensor b = random_tensor({3, 2}, rng).set_requires_grad();
  Tensor seed = random_tensor({4, 2}, rng);
  tape().backward(matmul(a, b), seed);
  Tensor first = b.grad().clone();
  tape().backward(matmul(a, b), seed);
  std::vector<double> once = first.to_vector<double>(), twice = b.grad().to_vector<double>();
  for (size_t i = 0; i < once.size(); ++i)
    EXPECT_DOUBLE_EQ(twice[i], 2 * once[i]);
}

TEST(Matmul, ShapeMismatchNamesBothOperands) {
  Tensor a = Tensor::zeros({3, 4});
  Tensor b = Tensor::zeros({5, 2});
  try {
    matmul(a, b);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("f32[3, 4]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("f32[5, 2]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace graft
