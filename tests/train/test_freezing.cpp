// Freezing: a frozen parameter does not move, and its backward GEMMs are
// neither executed nor counted, to the FLOP of model/flops.h's formula.
#include <gtest/gtest.h>

#include "model/flops.h"
#include "train/trainer.h"
#include "train_fixtures.h"

namespace graft {
namespace {

using testing::bit_identical;
using testing::pattern_source;
using testing::quick_options;
using testing::small_decoder;

const TokenPredictionTask kLm(TokenPredictionTask::Head::lm);
constexpr int64_t kRows = 4, kLen = 12, kSteps = 3;

// Trains kSteps steps with the given freeze patterns; returns the trainer's
// ledger and leaves the model trained.
FlopsLedger train_with(Decoder& model, std::vector<std::string> freeze, int64_t unfreeze = 0) {
  TrainerOptions o = quick_options(kSteps);
  o.freeze = std::move(freeze);
  o.unfreeze_step = unfreeze;
  Trainer trainer(model, kLm, o);
  testing::train_steps(trainer, pattern_source(kRows, kLen, 23), kSteps);
  return trainer.train_flops();
}

ModelFlops analytic() {
  StepShape shape;
  shape.batch = kRows;
  shape.decoder_len = kLen;
  ModelFlops f = training_step_flops(small_decoder(), shape);
  f.forward.matmul *= kSteps;
  f.forward.attention *= kSteps;
  f.backward.matmul *= kSteps;
  f.backward.attention *= kSteps;
  return f;
}

TEST(Freezing, NothingFrozenMatchesTheAnalyticCountExactly) {
  Decoder model(small_decoder(), 2);
  const FlopsLedger ledger = train_with(model, {});
  const ModelFlops expected = analytic();
  EXPECT_EQ(ledger.forward().matmul, expected.forward.matmul);
  EXPECT_EQ(ledger.forward().attention, expected.forward.attention);
  EXPECT_EQ(ledger.backward().matmul, expected.backward.matmul);
  EXPECT_EQ(ledger.backward().attention, expected.backward.attention);
}

TEST(Freezing, FrozenWeightIsBitIdenticalAndItsGradientGemmIsNotRun) {
  Decoder model(small_decoder(), 2);
  const std::string name = "decoder.layers.1.mlp.up.weight";
  const Tensor weight = model.parameters().get(name);
  const Tensor before = weight.clone();
  const Tensor other_before = model.parameters().get("decoder.layers.1.mlp.down.weight").clone();
  const FlopsLedger ledger = train_with(model, {name});

  EXPECT_TRUE(bit_identical(weight, before));
  EXPECT_FALSE(
      bit_identical(model.parameters().get("decoder.layers.1.mlp.down.weight"), other_before));
  const ModelFlops expected = analytic();
  // dW of [d_ff, d_model] over kRows·kLen positions: 2·M·N·K per step.
  const double dw = gemm_flops(kRows * kLen, 32, 16) * kSteps;
  EXPECT_EQ(ledger.forward().matmul, expected.forward.matmul);
  EXPECT_EQ(ledger.backward().matmul, expected.backward.matmul - dw);
  EXPECT_EQ(ledger.backward().attention, expected.backward.attention);
}

TEST(Freezing, FrozenBottomLayerAndEmbeddingsCostNoBackwardAtAll) {
  Decoder model(small_decoder(), 2);
  const auto& entries = model.parameters().entries();
  std::vector<Tensor> before = testing::snapshot(model.parameters());
  const FlopsLedger ledger =
      train_with(model, {"embed.*", "decoder.positions.*", "decoder.layers.0.*"});
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string& n = entries[i].name;
    const bool frozen = n.rfind("embed.", 0) == 0 || n.rfind("decoder.positions.", 0) == 0 ||
                        n.rfind("decoder.layers.0.", 0) == 0;
    EXPECT_EQ(bit_identical(entries[i].tensor, before[i]), frozen) << n;
  }
  // Nothing below layer 1 needs a gradient, so layer 0's whole backward (2×
  // its forward) is skipped, and the tied LM head computes dX but not dW.
  StepShape shape;
  shape.batch = kRows;
  shape.decoder_len = kLen;
  const ForwardFlopsParts parts = forward_flops_parts(small_decoder(), shape);
  const int64_t layers = small_decoder().decoder_layers;
  const ModelFlops expected = analytic();
  EXPECT_EQ(ledger.backward().matmul,
            expected.backward.matmul -
                kSteps * (2 * parts.decoder.matmul / layers + parts.lm_head.matmul));
  EXPECT_EQ(ledger.backward().attention,
            expected.backward.attention - kSteps * 2 * parts.decoder.attention / layers);
  EXPECT_EQ(ledger.forward().model(), expected.forward.model());
}

TEST(Freezing, UnfreezeStepTrainsTheParameterFromThatStepOn) {
  Decoder model(small_decoder(), 2);
  const std::string name = "decoder.final_norm.weight";
  const Tensor weight = model.parameters().get(name);
  const Tensor before = weight.clone();
  TrainerOptions o = quick_options(4);
  o.freeze = {"decoder.final_norm.*"};
  o.unfreeze_step = 3;
  Trainer trainer(model, kLm, o);
  const auto source = pattern_source(kRows, kLen, 23);
  testing::train_steps(trainer, source, 2);
  EXPECT_TRUE(bit_identical(weight, before));
  EXPECT_FALSE(weight.requires_grad());
  testing::train_steps(trainer, source, 1);
  EXPECT_TRUE(weight.requires_grad());
  EXPECT_FALSE(bit_identical(weight, before));
  // Its own AdamW step count starts at its first real update.
  EXPECT_EQ(trainer.optimizer().state().at(name).step, 1);
}

TEST(Freezing, PatternMatchingNothingIsAnInputError) {
  Decoder model(small_decoder(), 2);
  TrainerOptions o = quick_options(4);
  o.freeze = {"encoder.*"};
  EXPECT_THROW(Trainer(model, kLm, o), InputError);
}

}  // namespace
}  // namespace graft
