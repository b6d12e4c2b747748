// Trainer: determinism, gradient accumulation, non-finite steps.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "train/trainer.h"
#include "train_fixtures.h"

namespace graft {
namespace {

using testing::bit_identical;
using testing::pattern_source;
using testing::quick_options;
using testing::small_decoder;
using testing::snapshot;
using testing::train_steps;

const TokenPredictionTask kLm(TokenPredictionTask::Head::lm);

std::vector<double> loss_curve(uint64_t model_seed, uint64_t trainer_seed,
                               std::vector<Tensor>* final_params = nullptr) {
  Decoder model(small_decoder(23, /*dropout=*/0.1), model_seed);
  Trainer trainer(model, kLm, quick_options(12, trainer_seed));
  std::vector<double> losses = train_steps(trainer, pattern_source(4, 12, 23), 12);
  if (final_params) *final_params = snapshot(model.parameters());
  return losses;
}

TEST(Trainer, SameSeedGivesBitIdenticalLossCurveAndWeights) {
  std::vector<Tensor> first_params, second_params;
  const std::vector<double> first = loss_curve(3, 7, &first_params);
  const std::vector<double> second = loss_curve(3, 7, &second_params);
  ASSERT_EQ(first.size(), second.size());
  for (size_t i = 0; i < first.size(); ++i)
    EXPECT_EQ(first[i], second[i]) << "step " << i + 1;
  ASSERT_EQ(first_params.size(), second_params.size());
  for (size_t i = 0; i < first_params.size(); ++i) {
    EXPECT_TRUE(bit_identical(first_params[i], second_params[i])) << "parameter " << i;
  }
  // Only the trainer's seed changes: dropout masks must follow it.
  const std::vector<double> other = loss_curve(3, 8);
  EXPECT_NE(first, other) << "the trainer seed does not reach dropout";
  EXPECT_TRUE(std::isfinite(first.back()));
  EXPECT_LT(first.back(), first.front());
}

// One f64 step whose parameter deltas are the gradient
// (testing::gradient_as_update_options).
std::vector<std::vector<double>> sgd_like_deltas(int64_t accum, double* loss, double* norm) {
  Decoder model(small_decoder(), 11, DType::f64);
  Trainer trainer(model, kLm, testing::gradient_as_update_options());
  const int64_t rows = 6 / accum;
  std::vector<Batch> micro;
  for (int64_t i = 0; i < accum; ++i)
    micro.push_back(testing::pattern_batch(5, i * rows, rows, 10, 23));
  StepResult r;
  const auto deltas = testing::step_deltas(model, trainer, micro, &r);
  *loss = r.loss;
  *norm = r.grad_norm;
  return deltas;
}

TEST(Trainer, TwoMicroBatchesOfBEqualOneBatchOf2B) {
  double loss1, norm1, loss2, norm2, loss3, norm3;
  const auto whole = sgd_like_deltas(1, &loss1, &norm1);
  const auto halves = sgd_like_deltas(2, &loss2, &norm2);
  const auto thirds = sgd_like_deltas(3, &loss3, &norm3);
  EXPECT_NEAR(loss2, loss1, 1e-12 * loss1);
  EXPECT_NEAR(loss3, loss1, 1e-12 * loss1);
  EXPECT_NEAR(norm2, norm1, 1e-9 * norm1);
  EXPECT_NEAR(norm3, norm1, 1e-9 * norm1);
  double diff2 = 0, diff3 = 0, size = 0;
  for (size_t p = 0; p < whole.size(); ++p) {
    for (size_t i = 0; i < whole[p].size(); ++i) {
      diff2 += std::pow(halves[p][i] - whole[p][i], 2);
      diff3 += std::pow(thirds[p][i] - whole[p][i], 2);
      size += whole[p][i] * whole[p][i];
    }
  }
  ASSERT_GT(size, 0);
  EXPECT_LT(std::sqrt(diff2 / size), 1e-6);
  EXPECT_LT(std::sqrt(diff3 / size), 1e-6);
  // The update really is the gradient (lr/eps = 1): its norm is the gradient norm.
  EXPECT_NEAR(std::sqrt(size), norm1, 1e-3 * norm1);
}

TEST(Trainer, NonFiniteLossStepIsSkippedAndLeavesParametersAndMomentsAlone) {
  Decoder model(small_decoder(), 1);
  testing::PoisonedTask task(kLm, {3});
  Trainer trainer(model, task, quick_options(5));
  const auto source = pattern_source(4, 8, 23);
  train_steps(trainer, source, 2);
  const std::vector<Tensor> before = snapshot(model.parameters());
  const int64_t adam_steps = trainer.optimizer().state().at("embed.tokens.weight").step;

  const StepResult skipped = trainer.train_step({source(3, 0)});
  EXPECT_TRUE(skipped.skipped);
  EXPECT_TRUE(std::isnan(skipped.loss));
  EXPECT_EQ(trainer.step(), 3);
  EXPECT_EQ(trainer.skipped_steps(), 1);
  EXPECT_EQ(trainer.optimizer().state().at("embed.tokens.weight").step, adam_steps);
  const auto& entries = model.parameters().entries();
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_TRUE(bit_identical(entries[i].tensor, before[i])) << entries[i].name;
    EXPECT_FALSE(entries[i].tensor.has_grad()) << entries[i].name << ": gradient not dropped";
  }
  const StepResult next = trainer.train_step({source(4, 0)});
  EXPECT_FALSE(next.skipped);
  EXPECT_TRUE(std::isfinite(next.loss));
  EXPECT_FALSE(bit_identical(entries[0].tensor, before[0]));
}

TEST(Trainer, NonFiniteStepsInARowStopTheRunNamingTheStep) {
  Decoder model(small_decoder(), 1);
  testing::PoisonedTask task(kLm, {}, /*poison_from=*/4);
  TrainerOptions o = quick_options(20);
  o.max_nonfinite_steps = 3;
  Trainer trainer(model, task, o);
  const auto source = pattern_source(4, 8, 23);
  train_steps(trainer, source, 3);
  const std::vector<Tensor> good = snapshot(model.parameters());
  EXPECT_TRUE(trainer.train_step({source(4, 0)}).skipped);
  EXPECT_TRUE(trainer.train_step({source(5, 0)}).skipped);
  try {
    trainer.train_step({source(6, 0)});
    FAIL() << "the third non-finite step in a row did not stop the run";
  } catch (const InputError&) {
    FAIL() << "a diverging run is not the user's input error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("stopped at step 6"), std::string::npos) << message;
    EXPECT_NE(message.find("3 steps in a row"), std::string::npos) << message;
    EXPECT_NE(message.find("steps 4 to 6"), std::string::npos) << message;
  }
  const auto& entries = model.parameters().entries();
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_TRUE(bit_identical(entries[i].tensor, good[i])) << entries[i].name;
  }
}

TEST(Trainer, NonFiniteStepsThatAreNotConsecutiveDoNotStopTheRun) {
  Decoder model(small_decoder(), 1);
  testing::PoisonedTask task(kLm, {2, 4, 6});
  TrainerOptions o = quick_options(8);
  o.max_nonfinite_steps = 2;
  Trainer trainer(model, task, o);
  EXPECT_NO_THROW(train_steps(trainer, pattern_source(4, 8, 23), 8));
  EXPECT_EQ(trainer.skipped_steps(), 3);
}

TEST(Trainer, RunTrainingLogsSkippedStepsAndRethrowsTheStop) {
  Decoder model(small_decoder(), 1);
  testing::PoisonedTask task(kLm, {}, /*poison_from=*/2);
  TrainerOptions o = quick_options(10);
  o.max_nonfinite_steps = 2;
  Trainer trainer(model, task, o);
  LoopOptions loop;
  loop.steps = 10;
  loop.log_interval = 5;
  EXPECT_THROW(run_training(trainer, pattern_source(4, 8, 23), {}, loop), Error);
  EXPECT_EQ(trainer.step(), 3);
}

}  // namespace
}  // namespace graft
