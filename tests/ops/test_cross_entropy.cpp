#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>

#include "ops/autograd.h"
#include "ops/cross_entropy.h"
#include "ops/flops.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::expect_error_containing;

using testing::expect_gradients_match;
using testing::random_indices;
using testing::random_tensor;

struct NaiveCe {
  double loss_sum = 0;  // with smoothing
  double nll_sum = 0;   // without
  int64_t count = 0;
  int64_t correct = 0;
};

// Log-softmax per row in long double from the definition, then PyTorch's
// smoothed loss (1-ε)(-log p_t) + ε·mean_v(-log p_v).
NaiveCe naive_cross_entropy(const Tensor& logits, const Tensor& targets, int32_t ignore,
                            double eps) {
  const std::vector<double> x = testing::as_doubles(logits);
  const std::vector<int32_t> t = targets.to_vector<int32_t>();
  const int64_t vocab = logits.dim(-1);
  NaiveCe r;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == ignore) continue;
    const double* row = x.data() + i * static_cast<size_t>(vocab);
    long double max = row[0];
    int64_t argmax = 0;
    for (int64_t v = 1; v < vocab; ++v) {
      if (row[v] > max) {
        max = row[v];
        argmax = v;
      }
    }
    long double s = 0;
    for (int64_t v = 0; v < vocab; ++v)
      s += std::exp(static_cast<long double>(row[v]) - max);
    const long double lse = max + std::log(s);
    long double mean_nll = 0;
    for (int64_t v = 0; v < vocab; ++v)
      mean_nll += (lse - row[v]) / vocab;
    const long double nll = lse - row[t[i]];
    r.nll_sum += static_cast<double>(nll);
    r.loss_sum += static_cast<double>((1 - eps) * nll + eps * mean_nll);
    ++r.count;
    r.correct += argmax == t[i] ? 1 : 0;
  }
  return r;
}

// Marks about a third of the targets ignored.
Tensor with_ignored(Tensor targets, int32_t ignore, std::mt19937_64& rng) {
  int32_t* t = targets.data<int32_t>();
  for (int64_t i = 0; i < targets.numel(); ++i) {
    if (rng() % 3 == 0) t[i] = ignore;
  }
  return targets;
}

struct Case {
  double smoothing;
  int32_t ignore_index;
  bool ignore_some;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << "{smoothing " << c.smoothing << ", ignore_index " << c.ignore_index
      << (c.ignore_some ? ", some ignored}" : "}");
}

class CrossEntropyCases : public ::testing::TestWithParam<Case> {};

TEST_P(CrossEntropyCases, ForwardMatchesNaiveReference) {
  const Case c = GetParam();
  std::mt19937_64 rng(1);
  Tensor targets = random_indices({3, 5}, 11, rng);
  if (c.ignore_some) targets = with_ignored(targets, c.ignore_index, rng);
  for (DType dtype : {DType::f64, DType::f32}) {
    Tensor logits = random_tensor({3, 5, 11}, rng, dtype, -4.0, 4.0);
    Tensor loss = softmax_cross_entropy(logits, targets, {c.ignore_index, c.smoothing});
    EXPECT_EQ(loss.shape(), Shape{});
    EXPECT_EQ(loss.dtype(), dtype);
    const NaiveCe ref = naive_cross_entropy(logits, targets, c.ignore_index, c.smoothing);
    ASSERT_GT(ref.count, 0);
    const double tol = dtype == DType::f64 ? 1e-13 : 1e-6;
    EXPECT_NEAR(loss.item(), ref.loss_sum / ref.count, tol * std::fabs(ref.loss_sum / ref.count));
  }
}

TEST_P(CrossEntropyCases, BackwardMatchesFiniteDifferences) {
  const Case c = GetParam();
  std::mt19937_64 rng(2);
  Tensor targets = random_indices({3, 5}, 11, rng);
  if (c.ignore_some) targets = with_ignored(targets, c.ignore_index, rng);
  Tensor logits = random_tensor({3, 5, 11}, rng, DType::f64, -3.0, 3.0).set_requires_grad();
  const CrossEntropyOptions options{c.ignore_index, c.smoothing};
  expect_gradients_match(
      [&](const std::vector<Tensor>& in) { return softmax_cross_entropy(in[0], in[1], options); },
      {logits, targets});
}

INSTANTIATE_TEST_SUITE_P(
    SmoothingAndIgnore, CrossEntropyCases,
    ::testing::Values(Case{0.0, -100, false}, Case{0.0, -100, true}, Case{0.1, -100, true},
                      Case{0.3, 0, true}, Case{1.0, -100, false}),
    [](const ::testing::TestParamInfo<Case>& info) {
      const Case& c = info.param;
      return "smoothing" + std::to_string(static_cast<int>(c.smoothing * 10)) +
             (c.ignore_some ? "_ignore" + std::to_string(c.ignore_index < 0 ? 100 : c.ignore_index)
                            : "");
    });

TEST(CrossEntropy, IgnoredRowsContributeNothing) {
  std::mt19937_64 rng(3);
  Tensor logits = random_tensor({4, 7}, rng);
  Tensor targets = Tensor::from_vector<int32_t>({2, -100, 6, -100}, {4});
  Tensor kept_logits = Tensor::empty({2, 7}, DType::f64);
  const double* x = logits.data<double>();
  std::copy(x, x + 7, kept_logits.data<double>());
  std::copy(x + 14, x + 21, kept_logits.data<double>() + 7);
  Tensor kept_targets = Tensor::from_vector<int32_t>({2, 6}, {2});
  EXPECT_DOUBLE_EQ(softmax_cross_entropy(logits, targets).item(),
                   softmax_cross_entropy(kept_logits, kept_targets).item());

  // Their gradient rows are exactly zero.
  logits.set_requires_grad();
  tape().backward(softmax_cross_entropy(logits, targets));
  std::vector<double> g = logits.grad().to_vector<double>();
  for (int64_t v = 0; v < 7; ++v) {
    EXPECT_EQ(g[static_cast<size_t>(7 + v)], 0.0);
    EXPECT_EQ(g[static_cast<size_t>(21 + v)], 0.0);
  }
  double row_sum = 0;
  for (int64_t v = 0; v < 7; ++v)
    row_sum += g[static_cast<size_t>(v)];
  EXPECT_NEAR(row_sum, 0.0, 1e-15);  // softmax minus a distribution sums to 0
}

TEST(CrossEntropy, AllIgnoredIsZeroWithZeroGradient) {
  std::mt19937_64 rng(4);
  Tensor logits = random_tensor({2, 3, 5}, rng).set_requires_grad();
  Tensor targets = Tensor::full({2, 3}, -100, DType::i32);
  Tensor loss = softmax_cross_entropy(logits, targets, {-100, 0.1});
  EXPECT_EQ(loss.item(), 0.0);
  tape().backward(loss);
  for (double g : logits.grad().to_vector<double>())
    EXPECT_EQ(g, 0.0);
  const CrossEntropyStats stats = cross_entropy_stats(logits, targets);
  EXPECT_EQ(stats.loss_sum, 0.0);
  EXPECT_EQ(stats.count, 0);
  EXPECT_EQ(stats.correct, 0);
}

TEST(CrossEntropy, ExtremeLogitsStayFinite) {
  for (DType dtype : {DType::f32, DType::f64}) {
    // Row 0: target holds the +100 (loss ~0); row 1: target is a -100 next to
    // a +100 (loss ~200); row 2: all equal.
    Tensor logits = Tensor::from_vector<double>(
                        {100, -100, -100, -100, -100, 100, -100, -100, 100, 100, 100, 100}, {3, 4})
                        .to(dtype)
                        .set_requires_grad();
    Tensor targets = Tensor::from_vector<int32_t>({0, 0, 3}, {3});
    Tensor loss = softmax_cross_entropy(logits, targets, {-100, 0.1});
    const NaiveCe ref = naive_cross_entropy(logits, targets, -100, 0.1);
    EXPECT_TRUE(std::isfinite(loss.item()));
    EXPECT_NEAR(loss.item(), ref.loss_sum / 3, 1e-4);
    tape().backward(loss);
    for (double g : testing::as_doubles(logits.grad()))
      EXPECT_TRUE(std::isfinite(g));
  }
}

TEST(CrossEntropy, StatsMatchNaiveReferenceWithoutSmoothing) {
  std::mt19937_64 rng(5);
  Tensor targets = with_ignored(random_indices({6, 9}, 4, rng), -1, rng);
  Tensor logits = random_tensor({6, 9, 4}, rng, DType::f64, -2.0, 2.0);
  // Make some predictions right on purpose so correct is neither 0 nor count.
  double* x = logits.data<double>();
  const int32_t* t = targets.data<int32_t>();
  for (int64_t i = 0; i < 54; i += 2) {
    if (t[i] >= 0) x[i * 4 + t[i]] = 5.0;
  }
  const NaiveCe ref = naive_cross_entropy(logits, targets, -1, 0.0);
  for (DType dtype : {DType::f64, DType::f32}) {
    const CrossEntropyStats stats = cross_entropy_stats(logits.to(dtype), targets, -1);
    EXPECT_EQ(stats.count, ref.count);
    EXPECT_EQ(stats.correct, ref.correct);
    EXPECT_NEAR(stats.loss_sum, ref.nll_sum, (dtype == DType::f64 ? 1e-12 : 1e-5) * ref.nll_sum);
  }
  EXPECT_GT(ref.correct, 0);
  EXPECT_LT(ref.correct, ref.count);
  // The mean loss without smoothing is the stats' ratio.
  EXPECT_NEAR(softmax_cross_entropy(logits, targets, {-1, 0.0}).item(),
              ref.nll_sum / static_cast<double>(ref.count), 1e-13);
}

TEST(CrossEntropy, ArgmaxTiesGoToTheLowestIndex) {
  Tensor logits = Tensor::from_vector<float>({1, 3, 3, 0, 2, 2, 2, 2}, {2, 4});
  EXPECT_EQ(cross_entropy_stats(logits, Tensor::from_vector<int32_t>({1, 0}, {2})).correct, 2);
  EXPECT_EQ(cross_entropy_stats(logits, Tensor::from_vector<int32_t>({2, 3}, {2})).correct, 0);
}

TEST(CrossEntropy, LossIsBitIdenticalForAnyThreadCount) {
  std::mt19937_64 rng(6);
  Tensor targets = with_ignored(random_indices({64, 96}, 50, rng), -100, rng);
  Tensor logits = random_tensor({64, 96, 50}, rng, DType::f32, -8.0, 8.0).set_requires_grad();
  const int saved = omp_get_max_threads();
  std::vector<double> losses;
  std::vector<std::vector<float>> grads;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    logits.zero_grad();
    Tensor loss = softmax_cross_entropy(logits, targets, {-100, 0.1});
    losses.push_back(loss.item());
    tape().backward(loss);
    grads.push_back(logits.grad().to_vector<float>());
  }
  omp_set_num_threads(saved);
  for (size_t i = 1; i < losses.size(); ++i) {
    EXPECT_EQ(losses[i], losses[0]);
    EXPECT_TRUE(grads[i] == grads[0]);
  }
}

TEST(CrossEntropy, LedgerCountsNonIgnoredRows) {
  Tensor logits = Tensor::zeros({5, 7}).set_requires_grad();
  Tensor targets = Tensor::from_vector<int32_t>({1, -100, 2, 3, -100}, {5});
  flops_ledger().reset();
  Tensor loss = softmax_cross_entropy(logits, targets);
  EXPECT_EQ(flops_ledger().forward().other, 4.0 * 3 * 7);
  tape().backward(loss);
  EXPECT_EQ(flops_ledger().backward().other, 4.0 * 3 * 7);
  EXPECT_EQ(flops_ledger().total(), 8.0 * 3 * 7);

  logits.set_requires_grad(false);
  loss = softmax_cross_entropy(logits, targets);
  EXPECT_FALSE(loss.requires_grad());
  EXPECT_EQ(tape().size(), 0u);
}

TEST(CrossEntropy, BadTargetsAndArgumentsNameTheOp) {
  Tensor logits = Tensor::zeros({2, 3, 5});
  Tensor targets = Tensor::from_vector<int32_t>({0, 1, 2, 5, 4, 3}, {2, 3});
  expect_error_containing([&] { softmax_cross_entropy(logits, targets); },
                          {"softmax_cross_entropy", "target 5", "row 3"});
  expect_error_containing([&] { cross_entropy_stats(logits, targets); },
                          {"cross_entropy_stats", "target 5"});
  Tensor negative = Tensor::from_vector<int32_t>({0, 1, -7, 0, 0, 0}, {2, 3});
  expect_error_containing([&] { softmax_cross_entropy(logits, negative); }, {"target -7"});
  // -100 is only ignored when it is the ignore_index.
  Tensor padded = Tensor::from_vector<int32_t>({0, 1, -100, 0, 0, 0}, {2, 3});
  expect_error_containing(
      [&] {
        softmax_cross_entropy(logits, padded, {-1, 0.0});
      },
      {"target -100"});
  expect_error_containing(
      [&] {
        softmax_cross_entropy(logits, Tensor::zeros({2, 3}, DType::i32).reshape({6}));
      },
      {"softmax_cross_entropy", "targets", "[6]"});
  expect_error_containing(
      [&] {
        softmax_cross_entropy(logits, Tensor::zeros({2, 3}));
      },
      {"softmax_cross_entropy", "targets", "i32"});
  expect_error_containing(
      [&] {
        softmax_cross_entropy(Tensor::zeros({2, 3, 5}, DType::i32), targets);
      },
      {"softmax_cross_entropy", "logits"});
  expect_error_containing(
      [&] {
        softmax_cross_entropy(logits, Tensor::zeros({2, 3}, DType::i32), {-100, 1.5});
      },
      {"softmax_cross_entropy", "label_smoothing"});
}

}  // namespace
}  // namespace graft
