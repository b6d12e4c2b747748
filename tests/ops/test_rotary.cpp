#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "ops/autograd.h"
#include "ops/flops.h"
#include "ops/rotary.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::expect_gradients_match;
using testing::expect_tensors_near;
using testing::random_tensor;

// rotate_half by loops in double: pair (i, i + Dh/2) of each head turned by
// (offset + t) * base^(-2i/Dh).
Tensor naive_rotary(const Tensor& x, int64_t heads, int64_t offset, double base) {
  std::vector<double> v = testing::as_doubles(x), out(v.size());
  const int64_t batch = x.dim(0), seq = x.dim(1), dh = x.dim(2) / heads, half = dh / 2;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = 0; t < seq; ++t) {
      for (int64_t h = 0; h < heads; ++h) {
        const int64_t at = ((b * seq + t) * heads + h) * dh;
        for (int64_t i = 0; i < half; ++i) {
          const double angle = (offset + t) * std::pow(base, -2.0 * i / dh);
          const double x1 = v[at + i], x2 = v[at + i + half];
          out[at + i] = x1 * std::cos(angle) - x2 * std::sin(angle);
          out[at + i + half] = x2 * std::cos(angle) + x1 * std::sin(angle);
        }
      }
    }
  }
  return Tensor::from_vector(out, x.shape());
}

TEST(Rotary, ForwardMatchesNaiveReference) {
  std::mt19937_64 rng(1);
  for (DType dtype : {DType::f64, DType::f32}) {
    Tensor x = random_tensor({2, 5, 18}, rng, dtype);  // 3 heads of 6
    const double tol = dtype == DType::f64 ? 1e-12 : 1e-5;
    expect_tensors_near(rotary_embedding(x, 3, 4, 100.0), naive_rotary(x, 3, 4, 100.0), tol, tol);
    expect_tensors_near(rotary_embedding(x, 3), naive_rotary(x, 3, 0, 10000.0), tol, tol);
  }
}

TEST(Rotary, PositionZeroIsIdentity) {
  std::mt19937_64 rng(2);
  Tensor x = random_tensor({3, 4, 16}, rng, DType::f32);
  const std::vector<float> in = x.to_vector<float>(),
                           out = rotary_embedding(x, 2).to_vector<float>();
  for (int64_t b = 0; b < 3; ++b) {
    for (int64_t j = 0; j < 16; ++j) {
      const int64_t at = b * 4 * 16 + j;  // t == 0
      EXPECT_EQ(out[at], in[at]) << "batch " << b << " element " << j;
    }
  }
  // Later positions do rotate.
  EXPECT_NE(out[16], in[16]);
}

TEST(Rotary, PreservesTheNormOfEachPair) {
  std::mt19937_64 rng(3);
  const int64_t heads = 3, dh = 8, half = dh / 2;
  Tensor x = random_tensor({2, 7, heads * dh}, rng);
  const std::vector<double> in = x.to_vector<double>();
  const std::vector<double> out = rotary_embedding(x, heads, 11).to_vector<double>();
  for (size_t head = 0; head < in.size() / dh; ++head) {
    for (int64_t i = 0; i < half; ++i) {
      const size_t a = head * dh + i, b = a + half;
      EXPECT_NEAR(std::hypot(out[a], out[b]), std::hypot(in[a], in[b]), 1e-14);
    }
  }
}

TEST(Rotary, PositionOffsetContinuesTheSequence) {
  std::mt19937_64 rng(4);
  // Rotating positions 3..5 alone equals the last three of rotating 0..5.
  Tensor full = random_tensor({1, 6, 8}, rng);
  const std::vector<double> all = full.to_vector<double>();
  Tensor tail = Tensor::from_vector(std::vector<double>(all.begin() + 3 * 8, all.end()), {1, 3, 8});
  const std::vector<double> whole = rotary_embedding(full, 2).to_vector<double>();
  expect_tensors_near(
      rotary_embedding(tail, 2, 3),
      Tensor::from_vector(std::vector<double>(whole.begin() + 3 * 8, whole.end()), {1, 3, 8}),
      1e-15, 1e-15);
}

TEST(Rotary, BackwardMatchesFiniteDifferences) {
  std::mt19937_64 rng(5);
  Tensor x = random_tensor({3, 5, 18}, rng).set_requires_grad();
  expect_gradients_match(
      [](const std::vector<Tensor>& in) { return rotary_embedding(in[0], 3, 2, 50.0); }, {x});
}

TEST(Rotary, GradientsAccumulateAndLedgerCounts) {
  std::mt19937_64 rng(6);
  Tensor x = random_tensor({2, 3, 8}, rng).set_requires_grad();
  Tensor seed = random_tensor({2, 3, 8}, rng);
  flops_ledger().reset();
  tape().backward(rotary_embedding(x, 2, 1), seed);
  EXPECT_EQ(flops_ledger().forward().other, 3.0 * 48);
  EXPECT_EQ(flops_ledger().backward().other, 3.0 * 48);
  const std::vector<double> once = x.grad().to_vector<double>();
  tape().backward(rotary_embedding(x, 2, 1), seed);
  const std::vector<double> twice = x.grad().to_vector<double>();
  for (size_t i = 0; i < once.size(); ++i)
    EXPECT_DOUBLE_EQ(twice[i], 2 * once[i]);
}

TEST(Rotary, BadArgumentsNameTheOpAndArgument) {
  auto expect_error = [](const std::function<void()>& call, const std::string& argument) {
    try {
      call();
      FAIL() << "expected an error about " << argument;
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("rotary_embedding"), std::string::npos) << what;
      EXPECT_NE(what.find(argument), std::string::npos) << what;
    }
  };
  Tensor x = Tensor::zeros({2, 3, 12});
  expect_error([&] { rotary_embedding(Tensor::zeros({3, 12}), 2); }, "x");
  expect_error([&] { rotary_embedding(x, 5); }, "num_heads");
  expect_error([&] { rotary_embedding(x, 0); }, "num_heads");
  expect_error([&] { rotary_embedding(x, 4); }, "head dim");  // Dh = 3
  expect_error([&] { rotary_embedding(x, 2, -1); }, "position_offset");
  expect_error([&] { rotary_embedding(x, 2, 0, 0.0); }, "base");
}

}  // namespace
}  // namespace graft
