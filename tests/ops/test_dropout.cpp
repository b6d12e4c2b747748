#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <functional>

#include "ops/autograd.h"
#include "ops/dropout.h"
#include "ops/flops.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::expect_gradients_match;
using testing::random_tensor;

// 1 where dropout kept the element, 0 where it dropped it (x has no zeros).
std::vector<int> kept(const Tensor& out) {
  std::vector<double> v = testing::as_doubles(out);
  std::vector<int> mask(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    mask[i] = v[i] != 0.0;
  return mask;
}

Tensor nonzero_tensor(const Shape& shape, std::mt19937_64& rng, DType dtype = DType::f32) {
  return random_tensor(shape, rng, dtype, 1.0, 2.0);
}

TEST(Dropout, SameSeedSameMaskDifferentSeedDifferentMask) {
  std::mt19937_64 rng(1);
  Tensor x = nonzero_tensor({64, 33}, rng);
  const std::vector<int> a = kept(dropout(x, 0.5, 123));
  EXPECT_EQ(a, kept(dropout(x, 0.5, 123)));
  const std::vector<int> b = kept(dropout(x, 0.5, 124));
  int differ = 0;
  for (size_t i = 0; i < a.size(); ++i)
    differ += a[i] != b[i];
  // Independent masks at p = 0.5 differ in about half the elements.
  EXPECT_GT(differ, static_cast<int>(a.size()) / 3);
  EXPECT_LT(differ, 2 * static_cast<int>(a.size()) / 3);
}

TEST(Dropout, MaskIsTheSameForF32AndF64) {
  std::mt19937_64 rng(2);
  Tensor x = nonzero_tensor({5, 77}, rng, DType::f64);
  EXPECT_EQ(kept(dropout(x, 0.3, 9)), kept(dropout(x.to(DType::f32), 0.3, 9)));
}

TEST(Dropout, DropFractionWithinStatisticalBoundsAndKeptScaled) {
  std::mt19937_64 rng(3);
  const int64_t n = 1 << 20;
  Tensor x = nonzero_tensor({n}, rng);
  const std::vector<float> xv = x.to_vector<float>();
  for (double p : {0.1, 0.5, 0.9}) {
    const std::vector<float> out = dropout(x, p, 77).to_vector<float>();
    const float kept_scale = static_cast<float>(1.0 / (1.0 - p));
    int64_t dropped = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (out[i] == 0.0f) {
        ++dropped;
      } else {
        ASSERT_EQ(out[i], xv[i] * kept_scale) << "element " << i << " at p " << p;
      }
    }
    // Binomial(n, p): within 5 standard deviations of n p.
    const double sigma = std::sqrt(n * p * (1 - p));
    EXPECT_NEAR(static_cast<double>(dropped), n * p, 5 * sigma) << "p " << p;
  }
}

TEST(Dropout, ResultDoesNotDependOnThreadCount) {
  std::mt19937_64 rng(4);
  Tensor x = nonzero_tensor({1 << 18}, rng).set_requires_grad();
  Tensor seed = random_tensor({1 << 18}, rng, DType::f32);
  auto run_with_threads = [&](int threads) {
    omp_set_num_threads(threads);
    x.zero_grad();
    Tensor out = dropout(x, 0.25, 2024);
    tape().backward(out, seed);
    return std::make_pair(out.to_vector<float>(), x.grad().to_vector<float>());
  };
  const int saved = omp_get_max_threads();
  const auto one = run_with_threads(1);
  const auto two = run_with_threads(2);
  omp_set_num_threads(saved);
  EXPECT_EQ(one.first, two.first);
  EXPECT_EQ(one.second, two.second);
}

TEST(Dropout, BackwardMatchesFiniteDifferencesForAFixedSeed) {
  std::mt19937_64 rng(5);
  Tensor x = random_tensor({3, 5, 7}, rng).set_requires_grad();
  expect_gradients_match([](const std::vector<Tensor>& in) { return dropout(in[0], 0.4, 31); },
                         {x});
  // The gradient is zero exactly where forward dropped.
  Tensor out = dropout(x, 0.4, 31);
  x.zero_grad();
  tape().backward(out, Tensor::full(out.shape(), 1.0, DType::f64));
  EXPECT_EQ(kept(out), kept(x.grad()));
}

// A slice starting at first_index gets that slice of the whole tensor's mask,
// forward and backward: how a data-parallel rank draws its rows' masks.
TEST(Dropout, SliceAtFirstIndexGetsThatSliceOfTheWholeMask) {
  std::mt19937_64 rng(8);
  Tensor whole = nonzero_tensor({6, 5, 7}, rng, DType::f64);
  const std::vector<double> all = testing::as_doubles(dropout(whole, 0.4, 77));
  const int64_t first = 2 * 35, count = 3 * 35;  // rows 2..4
  const std::vector<double> v = testing::as_doubles(whole);
  Tensor part = Tensor::from_vector(
                    std::vector<double>(v.begin() + first, v.begin() + first + count), {3, 5, 7})
                    .set_requires_grad();
  Tensor out = dropout(part, 0.4, 77, true, first);
  EXPECT_EQ(testing::as_doubles(out),
            std::vector<double>(all.begin() + first, all.begin() + first + count));
  tape().backward(out, Tensor::full(out.shape(), 1.0, DType::f64));
  EXPECT_EQ(kept(part.grad()), kept(out));
  // From index 0 the same values draw another mask.
  EXPECT_NE(kept(dropout(part, 0.4, 77)), kept(out));
  EXPECT_THROW(dropout(part, 0.4, 77, true, -1), Error);
}

TEST(Dropout, ZeroProbabilityOrEvaluationReturnsInput) {
  std::mt19937_64 rng(6);
  Tensor x = random_tensor({4, 4}, rng).set_requires_grad();
  tape().clear();
  flops_ledger().reset();
  EXPECT_EQ(dropout(x, 0.0, 1).impl(), x.impl());
  EXPECT_EQ(dropout(x, 0.5, 1, /*training=*/false).impl(), x.impl());
  EXPECT_EQ(tape().size(), 0u);
  EXPECT_EQ(flops_ledger().forward().other, 0.0);
}

TEST(Dropout, LedgerCounts) {
  std::mt19937_64 rng(7);
  Tensor x = random_tensor({6, 7}, rng, DType::f32).set_requires_grad();
  flops_ledger().reset();
  Tensor y = dropout(x, 0.5, 3);
  EXPECT_EQ(flops_ledger().forward().other, 42.0);
  tape().backward(y, Tensor::full(y.shape(), 1.0, DType::f32));
  EXPECT_EQ(flops_ledger().backward().other, 42.0);
}

TEST(Dropout, RejectsProbabilityOutsideZeroToOne) {
  Tensor x = Tensor::zeros({3});
  for (double p : {-0.1, 1.0, 1.5, std::nan("")}) {
    try {
      dropout(x, p, 1);
      FAIL() << "expected an error for p " << p;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("dropout: p"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(dropout(Tensor::zeros({3}, DType::i32), 0.5, 1), Error);
}

}  // namespace
}  // namespace graft
