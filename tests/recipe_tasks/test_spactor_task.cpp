#include <gtest/gtest.h>

#include "model/model.h"
#include "ops/autograd.h"
#include "recipes/tasks/spactor_task.h"
#include "tiny_recipes.h"
#include "train/trainer.h"

namespace graft::recipe_tasks {
namespace {

using testing::ordinary_windows;
using testing::tiny_recipe_config;

ModelConfig t5_config() {
  ModelConfig c = tiny_recipe_config(ModelKind::encoder_decoder);
  c.rtd_head = true;
  return c;
}

double value(const Tensor& t) {
  return t.to(DType::f64).data<double>()[0];
}

std::vector<float> values(const Tensor& t) {
  const Tensor f = t.to(DType::f32);
  return std::vector<float>(f.data<float>(), f.data<float>() + f.numel());
}

TEST(SpactorTask, TauDefaultsToAnEighthOfTheBaseline) {
  EXPECT_EQ(spactor_tau(1000), 125);
  EXPECT_EQ(spactor_tau(3), 1);
  EXPECT_THROW(spactor_tau(0), InputError);
}

TEST(SpactorTask, HybridLossIsScPlusWeightedRtdAndMlm) {
  EncoderDecoder t5(t5_config(), 1);
  SpactorOptions options;
  options.lambda_rtd = 7.0;
  options.lambda_mlm = 0.5;
  const Vocab vocab(128);
  SpactorHybridTask task(t5, vocab, options);
  const Batch batch = spactor_step_batch(ordinary_windows(2, 24, 1), vocab, 3, 1, 1);
  NoGradGuard no_grad;
  ForwardContext context(true, 2);
  const SpactorStage1Parts p = task.parts(t5, context, batch);
  const double sc = value(p.sc_loss), rtd = value(p.rtd_loss), mlm = value(p.mlm_loss);
  EXPECT_GT(sc, 0);
  EXPECT_GT(rtd, 0);
  EXPECT_GT(mlm, 0);
  EXPECT_NEAR(value(p.total), sc + 7.0 * rtd + 0.5 * mlm, 1e-5 * (sc + 7.0 * rtd + 0.5 * mlm));
  // The decoder reconstructs the original: labels outside sentinels and EOS
  // are original tokens even where the encoder reads a replacement.
  EXPECT_EQ(task.target_count(batch), 2 * objectives::span_corruption_lengths(24).second);
  const StepShape s = task.shape(t5, batch);
  EXPECT_EQ(s.encoder_len, p.batch.seq2seq.input_ids.dim(1));
  EXPECT_EQ(s.decoder_len, p.batch.seq2seq.labels.dim(1));
}

TEST(SpactorTask, SwitchesExactlyAtTauAndLedgerMatchesPricing) {
  EncoderDecoder t5(t5_config(), 1);
  const Vocab vocab(128);
  SpactorHybridTask hybrid(t5, vocab);
  SpactorPlainTask plain;
  const int64_t tau = 2;
  SwitchingTask task(hybrid, plain, tau);
  TrainerOptions options;
  options.schedule.total_steps = 4;
  options.schedule.peak_lr = 1e-2;
  Trainer trainer(t5, task, options);
  const Tensor windows = ordinary_windows(2, 24, 5);
  const std::string gen = "generator.encoder.layers.0.mlp.up.weight";
  const std::string rtd = "rtd_head.dense.weight";
  ASSERT_TRUE(t5.parameters().contains(rtd)) << "rtd head parameter name changed";
  std::vector<float> gen_before = values(t5.parameters().get(gen));
  std::vector<float> rtd_before = values(t5.parameters().get(rtd));
  for (int64_t step = 1; step <= 4; ++step) {
    task.set_next_step(trainer.step() + 1);
    EXPECT_EQ(&task.current(), step <= tau ? static_cast<const PricedTask*>(&hybrid)
                                           : static_cast<const PricedTask*>(&plain))
        << step;
    const Batch batch = spactor_step_batch(windows, vocab, 9, step, tau);
    EXPECT_EQ(batch.encoder_ids.defined(), step > tau) << step;
    const StepResult r = trainer.train_step({batch});
    ASSERT_FALSE(r.skipped);
    const ModelFlops priced = task.training_flops(t5, batch);
    EXPECT_DOUBLE_EQ(r.forward.matmul, priced.forward.matmul) << step;
    EXPECT_DOUBLE_EQ(r.forward.attention, priced.forward.attention) << step;
    EXPECT_DOUBLE_EQ(r.backward.matmul, priced.backward.matmul) << step;
    EXPECT_DOUBLE_EQ(r.backward.attention, priced.backward.attention) << step;
    const std::vector<float> gen_now = values(t5.parameters().get(gen));
    const std::vector<float> rtd_now = values(t5.parameters().get(rtd));
    // Stage 1 trains the generator and rtd head; stage 2 leaves them alone.
    EXPECT_EQ(gen_now != gen_before, step <= tau) << step;
    EXPECT_EQ(rtd_now != rtd_before, step <= tau) << step;
    gen_before = gen_now;
    rtd_before = rtd_now;
  }
}

TEST(SpactorTask, StageOnePricingIncludesGeneratorAndRtdHead) {
  EncoderDecoder t5(t5_config(), 1);
  const Vocab vocab(128);
  SpactorHybridTask hybrid(t5, vocab);
  SpactorPlainTask plain;
  const Batch batch = spactor_step_batch(ordinary_windows(2, 24, 5), vocab, 9, 1, 1);
  const StepShape s = hybrid.shape(t5, batch);
  ModelConfig bare = t5.config();
  bare.rtd_head = false;
  const double sc_only = training_step_flops(bare, s).total();
  const ForwardFlopsParts parts = forward_flops_parts(t5.config(), s);
  const int64_t chosen = static_cast<int64_t>(labelled_positions(batch.targets).size());
  const double extra =
      3 * (parts.rtd_head.model() + hybrid.generator().forward_flops(2, 24, chosen).model());
  EXPECT_GT(parts.rtd_head.model(), 0);
  EXPECT_NEAR(hybrid.training_flops(t5, batch).total(), sc_only + extra, 1e-9 * sc_only);
  Batch sc;
  sc.encoder_ids = Tensor::zeros({2, s.encoder_len}, DType::i32);
  sc.input_ids = Tensor::zeros({2, s.decoder_len}, DType::i32);
  EXPECT_DOUBLE_EQ(plain.training_flops(t5, sc).total(), sc_only);
}

}  // namespace
}  // namespace graft::recipe_tasks
