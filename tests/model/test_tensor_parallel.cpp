// Tensor parallelism on one process: sharding rules by name, shard/gather
// round trips bit for bit, the divisibility errors, and the vocab-parallel
// embedding and cross-entropy against their plain counterparts on a one-rank
// group (their multi-rank equivalence is tests/dist/tp_equivalence_main.cpp).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "dist/single_communicator.h"
#include "dist/tp_ops.h"
#include "model/model.h"
#include "model/tensor_parallel.h"
#include "ops/autograd.h"
#include "ops/embedding.h"
#include "tests/model/tiny_models.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.bytes()) == 0;
}

TEST(TensorParallel, RulesSplitMegatronStyleByName) {
  const ShardingRules& rules = megatron_sharding_rules();
  EXPECT_EQ(shard_dim(rules, "embed.tokens.weight"), 0);
  EXPECT_EQ(shard_dim(rules, "lm_head.weight"), 0);
  EXPECT_EQ(shard_dim(rules, "mlm_head.bias"), 0);
  EXPECT_EQ(shard_dim(rules, "encoder.layers.1.attn.q.weight"), 0);
  EXPECT_EQ(shard_dim(rules, "decoder.layers.0.cross_attn.v.bias"), 0);
  EXPECT_EQ(shard_dim(rules, "decoder.layers.0.attn.o.weight"), 1);
  EXPECT_EQ(shard_dim(rules, "decoder.layers.0.attn.o.bias"), -1);
  EXPECT_EQ(shard_dim(rules, "encoder.layers.0.mlp.up.bias"), 0);
  EXPECT_EQ(shard_dim(rules, "encoder.layers.0.mlp.down.weight"), 1);
  EXPECT_EQ(shard_dim(rules, "encoder.layers.0.mlp.down.bias"), -1);
  for (const char* replicated :
       {"encoder.positions.weight", "encoder.final_norm.weight", "mlm_head.transform.weight",
        "rtd_head.out.weight", "classifier.out.bias", "encoder.layers.0.attn_norm.weight"})
    EXPECT_EQ(shard_dim(rules, replicated), -1) << replicated;
}

TEST(TensorParallel, ShardsConcatenateBackBitForBit) {
  std::mt19937_64 rng(5);
  for (DType dtype : {DType::f32, DType::f64}) {
    Tensor logical = testing::random_tensor({8, 12}, rng, dtype);
    for (int size : {1, 2, 4}) {
      for (int dim : {-1, 0, 1}) {
        std::vector<Tensor> shards;
        for (int r = 0; r < size; ++r)
          shards.push_back(shard_tensor(logical, dim, r, size));
        if (dim >= 0) EXPECT_EQ(shards[0].dim(dim), logical.dim(dim) / size);
        EXPECT_TRUE(bitwise_equal(concat_shards(shards, dim), logical))
            << "size " << size << " dim " << dim;
      }
    }
    // Column split of rank 1 of 2: columns 6..11 of every row.
    Tensor col = shard_tensor(logical, 1, 1, 2);
    EXPECT_EQ(std::memcmp(col.raw_data(),
                          static_cast<const char*>(logical.raw_data()) + 6 * dtype_size(dtype),
                          6 * dtype_size(dtype)),
              0);
  }
  EXPECT_THROW(shard_tensor(Tensor::zeros({6, 4}), 0, 0, 4, "x.weight"), InputError);
}

TEST(TensorParallel, GatherAndShardLogicalOnOneRankAreIdentities) {
  auto model = make_model(testing::tiny_config(ModelKind::encoder_decoder), 3, DType::f64);
  dist::SingleCommunicator tp("tp");
  Parameters logical = gather_logical(model->parameters(), megatron_sharding_rules(), tp);
  ASSERT_EQ(logical.names(), model->parameters().names());
  auto other = make_model(testing::tiny_config(ModelKind::encoder_decoder), 4, DType::f64);
  shard_logical(logical, other->parameters(), megatron_sharding_rules(), 0, 1);
  for (const NamedParameter& e : model->parameters().entries()) {
    EXPECT_TRUE(bitwise_equal(other->parameters().get(e.name), e.tensor)) << e.name;
    EXPECT_EQ(logical.get(e.name).requires_grad(), e.tensor.requires_grad());
  }
}

TEST(TensorParallel, ATpOfOneBuildsTheSameModel) {
  dist::SingleCommunicator comm("tp");
  for (ModelKind kind : {ModelKind::encoder, ModelKind::decoder, ModelKind::encoder_decoder}) {
    auto plain = make_model(testing::tiny_config(kind), 9);
    auto one = make_model(testing::tiny_config(kind), 9, DType::f32, TensorParallel{&comm, 0, 1});
    ASSERT_EQ(plain->parameters().names(), one->parameters().names());
    for (const NamedParameter& e : plain->parameters().entries())
      EXPECT_TRUE(bitwise_equal(one->parameters().get(e.name), e.tensor)) << e.name;
  }
}

TEST(TensorParallel, IndivisibleSizesAreInputErrorsNamingTheField) {
  ModelConfig c = testing::tiny_config(ModelKind::decoder);
  c.vocab_size = 12;
  c.num_heads = 2;
  c.d_ff = 12;
  auto message = [&](const ModelConfig& config, int size) -> std::string {
    try {
      check_tensor_parallel(config, TensorParallel{nullptr, 0, size});
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message(c, 4).find("num_heads = 2 is not divisible by tp=4"), std::string::npos)
      << message(c, 4);
  ModelConfig ff = c;
  ff.d_ff = 9;
  EXPECT_NE(message(ff, 2).find("d_ff = 9 is not divisible by tp=2"), std::string::npos);
  ModelConfig vocab = c;
  vocab.vocab_size = 11;
  EXPECT_NE(message(vocab, 2).find("vocab_size = 11 is not divisible by tp=2"), std::string::npos);
  EXPECT_THROW(make_model(c, 0, DType::f32, TensorParallel{nullptr, 0, 4}), InputError);
}

TEST(VocabParallel, CrossEntropyOnOneRankIsSoftmaxCrossEntropy) {
  std::mt19937_64 rng(11);
  dist::SingleCommunicator comm("tp");
  Tensor targets = testing::random_indices({3, 5}, 7, rng);
  targets.data<int32_t>()[4] = -100;
  for (double smoothing : {0.0, 0.1}) {
    CrossEntropyOptions options;
    options.label_smoothing = smoothing;
    Tensor logits = testing::random_tensor({3, 5, 7}, rng).set_requires_grad(true);
    Tensor want = softmax_cross_entropy(logits, targets, options);
    tape().backward(want);
    Tensor want_grad = logits.grad().clone();
    logits.zero_grad();
    Tensor got = dist::vocab_parallel_cross_entropy(logits, targets, 0, 7, comm, options);
    tape().backward(got);
    EXPECT_NEAR(got.item(), want.item(), 1e-12);
    testing::expect_tensors_near(logits.grad(), want_grad, 1e-10, 1e-12);
    testing::expect_gradients_match(
        [&](const std::vector<Tensor>& in) {
          return dist::vocab_parallel_cross_entropy(in[0], targets, 0, 7, comm, options);
        },
        {logits});
  }
}

TEST(VocabParallel, EmbeddingOnOneRankIsEmbedding) {
  std::mt19937_64 rng(12);
  dist::SingleCommunicator comm("tp");
  Tensor ids = testing::random_indices({2, 6}, 9, rng);
  Tensor table = testing::random_tensor({9, 4}, rng).set_requires_grad(true);
  Tensor seed = testing::random_tensor({2, 6, 4}, rng);
  Tensor want = embedding(ids, table);
  tape().backward(want, seed);
  Tensor want_grad = table.grad().clone();
  table.zero_grad();
  Tensor got = dist::vocab_parallel_embedding(ids, table, 0, 9, comm);
  EXPECT_TRUE(bitwise_equal(got.detach(), want.detach()));
  tape().backward(got, seed);
  EXPECT_TRUE(bitwise_equal(table.grad(), want_grad));
  // A slice of the vocabulary: ids outside it give zero rows (before the sum).
  Tensor slice = shard_tensor(table.detach(), 0, 1, 3);  // rows 3..5
  Tensor part = dist::vocab_parallel_embedding(ids, slice, 3, 9, comm);
  const int32_t* id = ids.data<int32_t>();
  for (int64_t p = 0; p < ids.numel(); ++p) {
    for (int64_t j = 0; j < 4; ++j) {
      const double expect = id[p] >= 3 && id[p] < 6 ? table.data<double>()[id[p] * 4 + j] : 0.0;
      EXPECT_EQ(part.data<double>()[p * 4 + j], expect);
    }
  }
  EXPECT_THROW(dist::vocab_parallel_embedding(Tensor::from_vector(std::vector<int32_t>{9}, {1}),
                                              table, 0, 9, comm),
               Error);
}

}  // namespace
}  // namespace graft
