#include <gtest/gtest.h>

#include <random>

#include <algorithm>
#include <cmath>

#include "model/model.h"
#include "ops/autograd.h"
#include "ops/cross_entropy.h"
#include "ops/flops.h"
#include "recipes/tasks/rtd_task.h"
#include "tiny_recipes.h"

namespace graft::recipe_tasks {
namespace {

using testing::ordinary_windows;
using testing::tiny_recipe_config;

ModelConfig disc_config() {
  ModelConfig c = tiny_recipe_config(ModelKind::encoder);
  c.rtd_head = true;
  return c;
}

Batch make_batch(uint64_t seed, int64_t pad = 0) {
  return rtd_task_batch(
      objectives::make_rtd_masking(ordinary_windows(4, 12, seed, pad), Vocab(128), seed));
}

double value(const Tensor& t) {
  return t.to(DType::f64).data<double>()[0];
}

TEST(RtdTask, GeneratorIsQuarterWidthSameDepthSharingEmbeddings) {
  Encoder disc(disc_config(), 1);
  RtdTask task(disc);
  EXPECT_EQ(task.generator().config().d_model, 4);
  EXPECT_EQ(task.generator().config().encoder_layers, 2);
  EXPECT_EQ(task.generator().config().d_ff, 16);
  EXPECT_TRUE(disc.parameters().contains("generator.embed_project.weight"));
  EXPECT_FALSE(disc.parameters().contains("generator.embed.tokens.weight"));
  GeneratorOptions base;
  base.width_fraction = 1.0 / 3.0;
  EXPECT_EQ(generator_config(disc.config(), 2, base).d_model, 5);
}

TEST(RtdTask, SamplingIsDeterministicInTheSeed) {
  Encoder disc(disc_config(), 1);
  RtdTask task(disc);
  const Batch batch = make_batch(3);
  ForwardContext a(true, 11), b(true, 11), c(true, 12);
  const Tensor ia = task.parts(disc, a, batch).disc.input_ids;
  const Tensor ib = task.parts(disc, b, batch).disc.input_ids;
  const Tensor ic = task.parts(disc, c, batch).disc.input_ids;
  EXPECT_EQ(objectives::tensor_rows(ia), objectives::tensor_rows(ib));
  EXPECT_NE(objectives::tensor_rows(ia), objectives::tensor_rows(ic));
  tape().clear();
}

TEST(RtdTask, GumbelMaxFollowsTheSoftmax) {
  // One logit 3 nats above the rest of 4: p = e^3 / (e^3 + 3) ≈ 0.87.
  std::vector<float> v(4000 * 4, 0.0f);
  for (int r = 0; r < 4000; ++r)
    v[static_cast<size_t>(r * 4 + 2)] = 3.0f;
  std::vector<int64_t> keys(4000);
  for (int r = 0; r < 4000; ++r)
    keys[static_cast<size_t>(r)] = r;
  const std::vector<int32_t> s = gumbel_max_samples(Tensor::from_vector(v, {4000, 4}), 7, keys);
  const double share = std::count(s.begin(), s.end(), 2) / 4000.0;
  EXPECT_NEAR(share, std::exp(3.0) / (std::exp(3.0) + 3.0), 0.02);
  EXPECT_EQ(s, gumbel_max_samples(Tensor::from_vector(v, {4000, 4}), 7, keys));
}

// A data-parallel rank holding global rows [2, 4) of a [4, T] batch samples,
// for each of its positions, what one rank with the whole batch samples
// there: samples are keyed by global position, not by their index on a rank.
TEST(RtdTask, GumbelSamplesAreKeyedByGlobalPosition) {
  const int64_t t = 5, vocab = 6;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> logits(4 * t * vocab);
  for (float& x : logits)
    x = u(rng);
  std::vector<int32_t> all_positions(4 * t);
  for (int32_t i = 0; i < 4 * t; ++i)
    all_positions[static_cast<size_t>(i)] = i;
  const std::vector<int32_t> whole = gumbel_max_samples(Tensor::from_vector(logits, {4 * t, vocab}),
                                                        11, global_positions(all_positions, 0, t));
  // The second rank: rows 2 and 3, local flat positions 0 .. 2T-1.
  const std::vector<float> tail(logits.begin() + 2 * t * vocab, logits.end());
  const std::vector<int32_t> local(all_positions.begin(), all_positions.begin() + 2 * t);
  const std::vector<int32_t> half = gumbel_max_samples(Tensor::from_vector(tail, {2 * t, vocab}),
                                                       11, global_positions(local, 2, t));
  EXPECT_EQ(half, std::vector<int32_t>(whole.begin() + 2 * t, whole.end()));
  // Keyed by local index instead, the second rank would repeat the first's draws.
  const std::vector<int32_t> unkeyed = gumbel_max_samples(Tensor::from_vector(tail, {2 * t, vocab}),
                                                          11, global_positions(local, 0, t));
  EXPECT_NE(unkeyed, half);
}

TEST(RtdTask, NoGradientThroughTheSample) {
  Encoder disc(disc_config(), 1);
  RtdTaskOptions options;
  options.weights.mlm = 0.0;
  RtdTask frozen_gen(disc, options);
  const Batch batch = make_batch(5);
  ForwardContext context(true, 1);
  tape().backward(frozen_gen.loss(disc, context, batch));
  bool disc_grad = false;
  for (const auto& p : disc.parameters().entries()) {
    const bool nonzero = p.tensor.has_grad() && [&] {
      const Tensor g = p.tensor.grad().to(DType::f64);
      for (int64_t i = 0; i < g.numel(); ++i)
        if (g.data<double>()[i] != 0) return true;
      return false;
    }();
    if (p.name.rfind("generator.", 0) == 0) {
      EXPECT_FALSE(nonzero) << p.name;
    } else if (p.name.rfind("encoder.layers.", 0) == 0) {
      disc_grad = disc_grad || nonzero;
    }
  }
  EXPECT_TRUE(disc_grad);
  disc.parameters().zero_grad();
}

TEST(RtdTask, GeneratorLearnsFromItsMlmLoss) {
  // The counterpart of the test above: with λ_MLM = 1 the generator's own
  // tensors do get gradient, so "all zero" there is not vacuous.
  ModelConfig c = disc_config();
  Encoder disc(c, 1);
  RtdTask task(disc);
  ForwardContext context(true, 1);
  tape().backward(task.loss(disc, context, make_batch(5)));
  const Tensor g = disc.parameters().get("generator.encoder.layers.0.mlp.up.weight").grad();
  ASSERT_TRUE(g.defined());
  double norm = 0;
  const Tensor g64 = g.to(DType::f64);
  for (int64_t i = 0; i < g64.numel(); ++i)
    norm += std::abs(g64.data<double>()[i]);
  EXPECT_GT(norm, 0);
  disc.parameters().zero_grad();
}

TEST(RtdTask, SampleEqualToOriginalIsLabelledOriginal) {
  Encoder disc(disc_config(), 1);
  RtdTask task(disc);
  const Batch batch = make_batch(8, /*pad=*/3);
  const objectives::RtdMasking m = rtd_masking_of(batch);
  int64_t equal_masked = 0, replaced = 0;
  NoGradGuard no_grad;
  for (uint64_t seed = 0; seed < 300 && (equal_masked == 0 || replaced == 0); ++seed) {
    ForwardContext context(true, seed);
    const RtdParts p = task.parts(disc, context, batch);
    const int32_t* in = p.disc.input_ids.data<int32_t>();
    const int32_t* orig = m.original.data<int32_t>();
    const int32_t* label = p.disc.labels.data<int32_t>();
    const int32_t* masked = m.masked.data<int32_t>();
    const int32_t* real = m.attention_mask.data<int32_t>();
    for (int64_t i = 0; i < m.original.numel(); ++i) {
      if (!real[i]) {
        EXPECT_EQ(label[i], kIgnoreIndex);
        continue;
      }
      EXPECT_EQ(label[i], in[i] != orig[i] ? 1 : 0) << i;
      if (!masked[i]) EXPECT_EQ(in[i], orig[i]);
      if (masked[i] && in[i] == orig[i]) ++equal_masked;
      replaced += label[i] == 1;
    }
  }
  EXPECT_GT(equal_masked, 0) << "no sample hit the original: the case went untested";
  EXPECT_GT(replaced, 0);
}

TEST(RtdTask, LossWeightsAreAppliedExactly) {
  Encoder disc(disc_config(), 1);
  RtdTaskOptions options;
  options.weights.mlm = 0.7;
  options.weights.rtd = 13.0;
  RtdTask task(disc, options);
  const Batch batch = make_batch(9, 2);
  NoGradGuard no_grad;
  ForwardContext context(true, 4);
  const RtdParts p = task.parts(disc, context, batch);
  // The parts recomputed from scratch: generator MLM on the chosen positions,
  // discriminator BCE on what it read.
  const objectives::RtdMasking m = rtd_masking_of(batch);
  const std::vector<int32_t> pos = labelled_positions(m.generator_labels);
  ForwardContext again(true, 4);
  const double mlm = value(softmax_cross_entropy(
      task.generator().logits(again, m.generator_input, m.attention_mask,
                              Tensor::from_vector(pos, {static_cast<int64_t>(pos.size())})),
      gather_ids(m.generator_labels, pos)));
  const double rtd = value(rtd_bce(
      disc.rtd_logits(disc.encode(again, p.disc.input_ids, p.disc.attention_mask)), p.disc.labels));
  EXPECT_DOUBLE_EQ(value(p.mlm_loss), mlm);
  EXPECT_DOUBLE_EQ(value(p.rtd_loss), rtd);
  EXPECT_NEAR(value(p.total), 0.7 * mlm + 13.0 * rtd, 1e-5 * (0.7 * mlm + 13.0 * rtd));
  EXPECT_GT(mlm, 0);
  EXPECT_GT(rtd, 0);
}

TEST(RtdTask, LedgerEqualsPricingIncludingTheGenerator) {
  Encoder disc(disc_config(), 1);
  RtdTask task(disc);
  const Batch batch = make_batch(10);
  flops_ledger().reset();
  ForwardContext context(true, 1);
  tape().backward(task.loss(disc, context, batch));
  const ModelFlops priced = task.training_flops(disc, batch);
  const FlopsLedger& l = flops_ledger();
  EXPECT_DOUBLE_EQ(l.forward().matmul, priced.forward.matmul);
  EXPECT_DOUBLE_EQ(l.forward().attention, priced.forward.attention);
  EXPECT_DOUBLE_EQ(l.backward().matmul, priced.backward.matmul);
  EXPECT_DOUBLE_EQ(l.backward().attention, priced.backward.attention);
  const ModelFlops disc_only = training_step_flops(disc.config(), task.shape(disc, batch));
  EXPECT_GT(priced.total(), disc_only.total());
  disc.parameters().zero_grad();
}

TEST(RtdTask, StatsReportDiscriminatorAccuracyAndGeneratorLoss) {
  Encoder disc(disc_config(), 1);
  RtdTask task(disc);
  const Batch batch = make_batch(12, 2);
  NoGradGuard no_grad;
  const CrossEntropyStats s = task.stats(disc, batch);
  EXPECT_EQ(s.count, task.target_count(batch));
  EXPECT_EQ(s.count, 4 * 12 - 2);
  EXPECT_GE(s.correct, 0);
  EXPECT_LE(s.correct, s.count);
  ForwardContext evaluation;
  EXPECT_NEAR(s.loss_sum / s.count, value(task.parts(disc, evaluation, batch).mlm_loss), 1e-9);
}

TEST(RtdTask, RefusesAnotherModel) {
  Encoder disc(disc_config(), 1), other(disc_config(), 2);
  RtdTask task(disc);
  ForwardContext context(true, 1);
  EXPECT_THROW(task.loss(other, context, make_batch(1)), Error);
}

}  // namespace
}  // namespace graft::recipe_tasks
