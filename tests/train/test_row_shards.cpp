// Trainer row shards (train/trainer.h): a micro-batch's rows trained at once
// on their own threads against weight-sharing replicas.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <string>

#include "data/vocab.h"
#include "train/distributed.h"
#include "train/trainer.h"
#include "train_fixtures.h"

namespace graft {
namespace {

using testing::bit_identical;
using testing::pattern_batch;
using testing::pattern_source;
using testing::quick_options;
using testing::small_decoder;
using testing::snapshot;
using testing::train_steps;

const TokenPredictionTask kLm(TokenPredictionTask::Head::lm);

// Rows of unequal weight: row r keeps its first len - 2r targets, so a shard's
// share of the counted targets is not its share of the rows.
Batch ragged_batch(int64_t rows, int64_t len) {
  Batch b = pattern_batch(5, 0, rows, len, 23);
  int32_t* t = b.targets.data<int32_t>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = std::max<int64_t>(1, len - 2 * r); i < len; ++i)
      t[r * len + i] = kIgnoreIndex;
  return b;
}

// One f64 step whose parameter deltas are the gradient
// (testing::gradient_as_update_options), so a wrong shard weight or a lost
// shard gradient shows up at full size.
std::vector<std::vector<double>> gradient_step(int64_t row_shards, const std::vector<Batch>& micro,
                                               double* loss) {
  Decoder model(small_decoder(), 11, DType::f64);
  TrainerOptions o = testing::gradient_as_update_options();
  o.row_shards = row_shards;
  Trainer trainer(model, kLm, o);
  StepResult r;
  const auto deltas = testing::step_deltas(model, trainer, micro, &r);
  *loss = r.loss;
  return deltas;
}

double relative_difference(const std::vector<std::vector<double>>& a,
                           const std::vector<std::vector<double>>& b) {
  double diff = 0, size = 0;
  for (size_t p = 0; p < a.size(); ++p) {
    for (size_t i = 0; i < a[p].size(); ++i) {
      diff += std::pow(a[p][i] - b[p][i], 2);
      size += a[p][i] * a[p][i];
    }
  }
  EXPECT_GT(size, 0);
  return std::sqrt(diff / size);
}

TEST(RowShards, ShardedGradientEqualsTheWholeBatchGradient) {
  // 7 ragged rows: 2 shards of 3 and 4 rows, 3 shards of 2, 2 and 3, and more
  // shards than rows in one micro-batch of the accumulated case.
  const std::vector<Batch> whole{ragged_batch(7, 10)};
  double loss1 = 0;
  const auto reference = gradient_step(1, whole, &loss1);
  for (int64_t shards : {2, 3, 7, 9}) {
    double loss = 0;
    const auto sharded = gradient_step(shards, whole, &loss);
    EXPECT_NEAR(loss, loss1, 1e-12 * loss1) << shards << " shards";
    EXPECT_LT(relative_difference(sharded, reference), 1e-12) << shards << " shards";
  }
  // Two micro-batches (rows 0-3 and 4-6) of 2 shards each.
  const Batch all = whole[0];
  const std::vector<Batch> two{batch_rows(all, 0, 4), batch_rows(all, 4, 3)};
  double loss2 = 0;
  const auto accumulated = gradient_step(2, two, &loss2);
  EXPECT_NEAR(loss2, loss1, 1e-12 * loss1);
  EXPECT_LT(relative_difference(accumulated, reference), 1e-12);
}

TEST(RowShards, ReplicasFollowParameterDataReplacedAfterTheTrainerIsBuilt) {
  // A checkpoint load or dtype conversion may give a parameter new storage;
  // the replicas must train on the new values, not the old buffer.
  const std::vector<Batch> micro{ragged_batch(6, 10)};
  auto deltas = [&](int64_t row_shards) {
    Decoder model(small_decoder(), 11, DType::f64);
    TrainerOptions o = testing::gradient_as_update_options();
    o.row_shards = row_shards;
    Trainer trainer(model, kLm, o);
    for (const NamedParameter& p : model.parameters().entries()) {
      Tensor fresh = p.tensor.clone();
      double* v = fresh.data<double>();
      for (int64_t i = 0; i < fresh.numel(); ++i)
        v[i] = 0.5 * v[i] + 0.01 * static_cast<double>(i % 7);
      p.tensor.share_data_of(fresh);
    }
    StepResult r;
    return testing::step_deltas(model, trainer, micro, &r);
  };
  EXPECT_LT(relative_difference(deltas(3), deltas(1)), 1e-12);
}

std::vector<double> sharded_curve(int threads, int64_t row_shards, std::vector<Tensor>* params) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  Decoder model(small_decoder(23, /*dropout=*/0.1), 3);
  TrainerOptions o = quick_options(6, 7);
  o.row_shards = row_shards;
  Trainer trainer(model, kLm, o);
  std::vector<double> losses = train_steps(trainer, pattern_source(6, 12, 23), 6, 2);
  *params = snapshot(model.parameters());
  omp_set_num_threads(saved);
  return losses;
}

TEST(RowShards, LossCurveDoesNotDependOnTheThreadCount) {
  std::vector<Tensor> one_params, two_params, three_params;
  const std::vector<double> one = sharded_curve(1, 2, &one_params);
  const std::vector<double> two = sharded_curve(2, 2, &two_params);
  const std::vector<double> three = sharded_curve(3, 2, &three_params);
  EXPECT_EQ(one, two);
  EXPECT_EQ(one, three);
  for (size_t i = 0; i < one_params.size(); ++i) {
    EXPECT_TRUE(bit_identical(one_params[i], two_params[i])) << "parameter " << i;
    EXPECT_TRUE(bit_identical(one_params[i], three_params[i])) << "parameter " << i;
  }
  // Each shard draws its own dropout masks: the curve is not the unsharded one.
  std::vector<Tensor> unsharded_params;
  EXPECT_NE(sharded_curve(2, 1, &unsharded_params), one);
  EXPECT_LT(one.back(), one.front());
}

TEST(RowShards, FrozenParametersStayFrozenInEveryShard) {
  Decoder model(small_decoder(), 4);
  const std::vector<Tensor> before = snapshot(model.parameters());
  TrainerOptions o = quick_options(2);
  o.row_shards = 2;
  o.freeze = {"decoder.layers.0.*"};
  Trainer trainer(model, kLm, o);
  train_steps(trainer, pattern_source(4, 8, 23), 2);
  const auto& entries = model.parameters().entries();
  int frozen = 0, trained = 0;
  for (size_t p = 0; p < entries.size(); ++p) {
    const bool same = bit_identical(entries[p].tensor, before[p]);
    if (entries[p].name.rfind("decoder.layers.0.", 0) == 0) {
      EXPECT_TRUE(same) << entries[p].name << " is frozen but changed";
      ++frozen;
    } else {
      trained += same ? 0 : 1;
    }
  }
  EXPECT_GT(frozen, 0);
  EXPECT_GT(trained, 0);
}

TEST(RowShards, BadSettingsAreRefusedWithTheReason) {
  Decoder model(small_decoder(), 4);
  TrainerOptions o = quick_options(2);
  o.row_shards = 0;
  EXPECT_THROW(Trainer(model, kLm, o), InputError);
  // A parameter the config does not create (as RTD's generator adds) cannot
  // be replicated.
  model.parameters().add("task.extra", Tensor::zeros({3}).set_requires_grad(true));
  o.row_shards = 2;
  try {
    Trainer trainer(model, kLm, o);
    FAIL() << "a model with a parameter outside its config was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("task.extra"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("row_shards = 1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace graft
