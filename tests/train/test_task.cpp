// Tasks beyond CLM: classification accuracy and an encoder-decoder's token
// loss, each priced by model/flops.h through Task::shape.
#include <gtest/gtest.h>

#include "model/flops.h"
#include "train_fixtures.h"

namespace graft {
namespace {

// Label = the first token's class, a rule a tiny encoder learns in a few
// dozen steps.
Batch classification_batch(uint64_t seed, int64_t rows, int64_t len) {
  std::vector<int32_t> ids, labels;
  for (int64_t r = 0; r < rows; ++r) {
    uint64_t state = mix64(seed * 7919 + static_cast<uint64_t>(r));
    for (int64_t t = 0; t < len; ++t) {
      ids.push_back(static_cast<int32_t>(state % 12));
      state = mix64(state);
    }
    labels.push_back(ids[static_cast<size_t>(r * len)] % 3);
  }
  Batch b;
  b.input_ids = Tensor::from_vector(ids, {rows, len});
  b.targets = Tensor::from_vector(labels, {rows});
  return b;
}

TEST(Tasks, ClassifierLearnsAndReportsAccuracy) {
  ModelConfig c = testing::small_decoder(12);
  c.kind = ModelKind::encoder;
  c.encoder_layers = 2;
  c.decoder_layers = 0;
  c.lm_head = false;
  c.num_classes = 3;
  Encoder model(c, 4);
  ClassificationTask task;
  TrainerOptions o = testing::quick_options(60);
  o.schedule.peak_lr = 1e-2;
  Trainer trainer(model, task, o);
  const std::vector<Batch> valid{classification_batch(1000, 64, 6)};
  const EvalResult before = trainer.evaluate(valid);
  EXPECT_EQ(before.count, 64);
  EXPECT_EQ(task.target_count(valid[0]), 64);
  for (int64_t s = 1; s <= 60; ++s)
    trainer.train_step({classification_batch(s, 16, 6)});
  const EvalResult after = trainer.evaluate(valid);
  EXPECT_GT(after.accuracy, 0.9) << "before " << before.accuracy;
  EXPECT_LT(after.loss, before.loss);
  EXPECT_LT(after.bits_per_byte, 0) << "no byte counts: no bits per byte";
}

TEST(Tasks, EncoderDecoderTokenLossMatchesTheAnalyticFlops) {
  ModelConfig c = testing::small_decoder(23);
  c.kind = ModelKind::encoder_decoder;
  c.encoder_layers = 2;
  EncoderDecoder model(c, 4);
  TokenPredictionTask task(TokenPredictionTask::Head::lm);
  Trainer trainer(model, task, testing::quick_options(2));
  Batch b = testing::pattern_batch(3, 0, 3, 7, 23);
  b.encoder_ids = testing::pattern_batch(4, 0, 3, 11, 23).input_ids;
  std::vector<int32_t> targets = b.targets.to_vector<int32_t>();
  targets[0] = kIgnoreIndex;  // padding-like positions are not counted
  b.targets = Tensor::from_vector(targets, {3, 7});
  EXPECT_EQ(task.target_count(b), 20);
  const StepShape shape = task.shape(model, b);
  EXPECT_EQ(shape.batch, 3);
  EXPECT_EQ(shape.encoder_len, 11);
  EXPECT_EQ(shape.decoder_len, 7);
  const StepResult r = trainer.train_step({b});
  EXPECT_EQ(r.tokens, 3 * (7 + 11));
  const ModelFlops expected = training_step_flops(c, shape);
  EXPECT_EQ(r.forward.model(), expected.forward.model());
  EXPECT_EQ(r.backward.model(), expected.backward.model());
  const EvalResult e = trainer.evaluate({b});
  EXPECT_EQ(e.count, 20);
  EXPECT_GE(e.correct, 0);
  EXPECT_LE(e.correct, 20);
  EXPECT_EQ(e.forward.model(), forward_step_flops(c, shape).forward.model());
}

}  // namespace
}  // namespace graft
