#include <gtest/gtest.h>

#include "model/model.h"
#include "ops/autograd.h"
#include "ops/flops.h"
#include "recipes/objectives/mlm.h"
#include "recipes/tasks/tlm_task.h"
#include "tiny_recipes.h"

namespace graft::recipe_tasks {
namespace {

using testing::ordinary_windows;
using testing::tiny_recipe_config;

ModelConfig tlm_config() {
  ModelConfig c = tiny_recipe_config(ModelKind::encoder);
  c.mlm_head = true;
  c.num_classes = 3;
  return c;
}

double value(const Tensor& t) {
  return t.to(DType::f64).data<double>()[0];
}

objectives::LmBatch masked(uint64_t seed) {
  return objectives::make_mlm_batch(ordinary_windows(3, 10, seed), Vocab(128), seed);
}

TEST(TlmTask, TaskBatchLossIsTheWeightedMeanOfItsParts) {
  Encoder model(tlm_config(), 1);
  TlmOptions options;
  options.rho2 = 20;
  TlmTask task(options);
  const objectives::LmBatch mlm = masked(1);
  const Tensor labels = Tensor::from_vector(std::vector<int32_t>{0, 2, 1}, {3});
  const Batch batch = tlm_task_batch(mlm, labels);
  ASSERT_TRUE(is_tlm_task_batch(batch));
  NoGradGuard no_grad;
  ForwardContext context;
  const double total = value(task.loss(model, context, batch));
  // The parts, each from the library's own single-objective task.
  Batch mlm_only = tlm_external_batch(mlm);
  Batch cls;
  cls.input_ids = mlm.input_ids;
  cls.input_mask = mlm.attention_mask;
  cls.targets = labels;
  const double l_mlm =
      value(TokenPredictionTask(TokenPredictionTask::Head::mlm).loss(model, context, mlm_only));
  const double l_task = value(ClassificationTask().loss(model, context, cls));
  EXPECT_GT(l_mlm, 0);
  EXPECT_GT(l_task, 0);
  EXPECT_NEAR(total, (20 * l_mlm + l_task) / 21, 1e-6 * total);
  // An external batch is plain MLM.
  EXPECT_DOUBLE_EQ(value(task.loss(model, context, mlm_only)), l_mlm);
  EXPECT_EQ(task.target_count(batch), task.target_count(mlm_only));
  // stats: task batches report classification, external ones MLM.
  EXPECT_EQ(task.stats(model, batch).count, 3);
  EXPECT_EQ(task.stats(model, mlm_only).count, task.target_count(mlm_only));
}

TEST(TlmTask, InterleavesRho1ExternalBatchesPerTaskBatch) {
  std::vector<bool> kinds;
  for (int64_t s = 1; s <= 8; ++s)
    kinds.push_back(tlm_task_step(s, 3));
  EXPECT_EQ(kinds, (std::vector<bool>{true, false, false, false, true, false, false, false}));
  EXPECT_TRUE(tlm_task_step(5, 0));
}

TEST(TlmTask, LedgerEqualsPricing) {
  Encoder model(tlm_config(), 1);
  TlmTask task;
  for (bool task_batch : {true, false}) {
    const objectives::LmBatch mlm = masked(2);
    const Batch batch =
        task_batch ? tlm_task_batch(mlm, Tensor::from_vector(std::vector<int32_t>{1, 1, 0}, {3}))
                   : tlm_external_batch(mlm);
    flops_ledger().reset();
    ForwardContext context(true, 1);
    tape().backward(task.loss(model, context, batch));
    const ModelFlops priced = task.training_flops(model, batch);
    EXPECT_DOUBLE_EQ(flops_ledger().forward().matmul, priced.forward.matmul) << task_batch;
    EXPECT_DOUBLE_EQ(flops_ledger().backward().matmul, priced.backward.matmul) << task_batch;
    EXPECT_DOUBLE_EQ(flops_ledger().forward().attention, priced.forward.attention) << task_batch;
    model.parameters().zero_grad();
  }
}

}  // namespace
}  // namespace graft::recipe_tasks
