#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>

#include "ops/autograd.h"
#include "ops/embedding.h"
#include "ops/flops.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::expect_error_containing;

using testing::expect_gradients_match;
using testing::random_indices;
using testing::random_tensor;

// out[i, :] = table[ids[i], :], by loops in double.
std::vector<double> naive_embedding(const Tensor& ids, const Tensor& table) {
  const std::vector<int32_t> id = ids.to_vector<int32_t>();
  const std::vector<double> w = testing::as_doubles(table);
  const int64_t d = table.dim(1);
  std::vector<double> out;
  for (int32_t i : id) {
    for (int64_t j = 0; j < d; ++j)
      out.push_back(w[static_cast<size_t>(i * d + j)]);
  }
  return out;
}

TEST(Embedding, ForwardGathersRowsInBothDtypes) {
  std::mt19937_64 rng(1);
  Tensor ids = random_indices({2, 7}, 13, rng);
  for (DType dtype : {DType::f64, DType::f32}) {
    Tensor table = random_tensor({13, 5}, rng, dtype);
    Tensor out = embedding(ids, table);
    EXPECT_EQ(out.shape(), (Shape{2, 7, 5}));
    EXPECT_EQ(out.dtype(), dtype);
    // A gather copies: exact equality in either dtype.
    EXPECT_EQ(testing::as_doubles(out), naive_embedding(ids, table));
  }
}

TEST(Embedding, ScalarAndEmptyIds) {
  std::mt19937_64 rng(2);
  Tensor table = random_tensor({4, 3}, rng);
  Tensor one = embedding(Tensor::from_vector<int32_t>({2}, {}), table);
  EXPECT_EQ(one.shape(), (Shape{3}));
  EXPECT_EQ(one.to_vector<double>(),
            naive_embedding(Tensor::from_vector<int32_t>({2}, {1}), table));
  Tensor none = embedding(Tensor::zeros({0, 6}, DType::i32), table);
  EXPECT_EQ(none.shape(), (Shape{0, 6, 3}));
}

TEST(Embedding, BackwardMatchesFiniteDifferencesWithRepeatedIds) {
  // 14 ids into 13 rows: repeats are certain, and some rows are never used.
  std::vector<int32_t> id = {0, 3, 3, 12, 7, 3, 0, 5, 5, 5, 11, 2, 12, 9};
  Tensor ids = Tensor::from_vector(id, {2, 7});
  std::mt19937_64 rng(3);
  Tensor table = random_tensor({13, 4}, rng).set_requires_grad();
  expect_gradients_match([](const std::vector<Tensor>& in) { return embedding(in[0], in[1]); },
                         {ids, table});
  // Rows nobody looked up get an exact zero gradient, not leftover memory.
  std::vector<double> g = table.grad().to_vector<double>();
  for (int64_t j = 0; j < 4; ++j) {
    EXPECT_EQ(g[static_cast<size_t>(1 * 4 + j)], 0.0);
    EXPECT_EQ(g[static_cast<size_t>(10 * 4 + j)], 0.0);
  }
}

TEST(Embedding, GradientsAccumulateAcrossBackwardPasses) {
  std::mt19937_64 rng(4);
  Tensor ids = random_indices({3, 5}, 6, rng);
  Tensor table = random_tensor({6, 3}, rng).set_requires_grad();
  Tensor seed = random_tensor({3, 5, 3}, rng);
  tape().backward(embedding(ids, table), seed);
  Tensor first = table.grad().clone();
  tape().backward(embedding(ids, table), seed);
  std::vector<double> once = first.to_vector<double>(), twice = table.grad().to_vector<double>();
  for (size_t i = 0; i < once.size(); ++i)
    EXPECT_DOUBLE_EQ(twice[i], 2 * once[i]);
}

// Big enough to cross kParallelElements in both passes, with a small vocabulary
// so that every row collects hundreds of float additions whose order matters.
TEST(Embedding, BackwardIsBitIdenticalForAnyThreadCount) {
  std::mt19937_64 rng(5);
  const int64_t vocab = 37, d = 96;
  Tensor ids = random_indices({8, 512}, vocab, rng);
  Tensor table = random_tensor({vocab, d}, rng, DType::f32).set_requires_grad();
  Tensor seed = random_tensor({8, 512, d}, rng, DType::f32, -10.0, 10.0);

  // The serial reference: rows summed in position order from zero.
  std::vector<float> expected(static_cast<size_t>(vocab * d), 0.0f);
  const std::vector<int32_t> id = ids.to_vector<int32_t>();
  const std::vector<float> g = seed.to_vector<float>();
  for (size_t i = 0; i < id.size(); ++i) {
    for (int64_t j = 0; j < d; ++j) {
      expected[static_cast<size_t>(id[i] * d + j)] += g[i * static_cast<size_t>(d) + j];
    }
  }

  const int saved = omp_get_max_threads();
  std::vector<std::vector<float>> grads;
  for (int threads : {1, 2, 4}) {
    omp_set_num_threads(threads);
    table.zero_grad();
    tape().backward(embedding(ids, table), seed);
    grads.push_back(table.grad().to_vector<float>());
  }
  omp_set_num_threads(saved);
  for (const std::vector<float>& got : grads) {
    ASSERT_EQ(got.size(), expected.size());
    EXPECT_EQ(std::memcmp(got.data(), expected.data(), got.size() * sizeof(float)), 0);
  }
}

TEST(Embedding, LedgerCountsBackwardAddsOnly) {
  std::mt19937_64 rng(6);
  Tensor ids = random_indices({3, 7}, 11, rng);
  Tensor table = random_tensor({11, 5}, rng, DType::f32).set_requires_grad();
  flops_ledger().reset();
  Tensor y = embedding(ids, table);
  EXPECT_EQ(flops_ledger().forward().total(), 0.0);
  tape().backward(y, Tensor::full(y.shape(), 1.0, DType::f32));
  EXPECT_EQ(flops_ledger().backward().other, 21.0 * 5);
  EXPECT_EQ(flops_ledger().backward().model(), 0.0);

  // A frozen table: nothing recorded.
  table.set_requires_grad(false);
  y = embedding(ids, table);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(tape().size(), 0u);
}

TEST(Embedding, OutOfRangeIdNamesIdPositionAndVocabulary) {
  Tensor table = Tensor::zeros({13, 4});
  Tensor ids = Tensor::from_vector<int32_t>({1, 2, 3, 4, 13, 5}, {2, 3});
  expect_error_containing([&] { embedding(ids, table); }, {"embedding", "id 13", "[1, 1]", "V=13"});
  Tensor negative = Tensor::from_vector<int32_t>({0, -1}, {2});
  expect_error_containing([&] { embedding(negative, table); }, {"embedding", "id -1", "[1]"});
}

TEST(Embedding, BadArgumentsNameTheOp) {
  Tensor table = Tensor::zeros({5, 4});
  expect_error_containing([&] { embedding(Tensor::zeros({3}), table); },
                          {"embedding", "ids", "i32"});
  expect_error_containing([&] { embedding(Tensor::zeros({3}, DType::i32), Tensor::zeros({20})); },
                          {"embedding", "table"});
  expect_error_containing(
      [&] {
        embedding(Tensor::zeros({3}, DType::i32), Tensor::zeros({5, 4}, DType::i32));
      },
      {"embedding", "table"});
}

}  // namespace
}  // namespace graft
