// TLM (Yao et al. 2022; RECIPES.md recipe 4), stage 1: the joint loss.
//
// The authors' code interleaves whole batches: ρ1 external MLM batches (from
// the retrieved set S, bm25_index.h) per task batch. An external batch's loss
// is L_MLM; a task batch's is (ρ2·L_MLM + L_task)/(ρ2 + 1), both heads (MLM
// and classifier) on ONE encoder pass over the masked task input.
// Reference values (yaoxingcheng/TLM example_scripts/train.sh, SciERC small):
// ρ1 = 999, ρ2 = 20. Stage 2 (ρ1 = ρ2 = 0) is plain ClassificationTask.
//
// Batch layout, so both kinds travel in a train/batch.h Batch:
//   external  input_ids [B, T] masked, targets [B, T] (MLM labels)
//   task      input_ids [B, T] masked, targets [B, T + 1]: the MLM labels,
//             then the class label in the last column (tlm_task_batch).
#pragma once

#include <vector>

#include "recipes/objectives/batch.h"
#include "recipes/tasks/rtd_task.h"

namespace graft::recipe_tasks {

struct TlmOptions {
  int64_t rho1 = 999;  // external batches per task batch
  double rho2 = 20;    // MLM weight within a task batch
};

Batch tlm_external_batch(const objectives::LmBatch& mlm);
// mlm: the masked task input (objectives::make_mlm_batch over the task
// example's [CLS] text [SEP] ids); labels: class ids [B].
Batch tlm_task_batch(const objectives::LmBatch& mlm, const Tensor& labels);
bool is_tlm_task_batch(const Batch& batch);

// Whether 1-based `step` trains on a task batch: each cycle of ρ1 + 1 steps
// starts with one task batch, then ρ1 external batches.
bool tlm_task_step(int64_t step, int64_t rho1);

struct TlmParts {
  Tensor mlm_loss, task_loss, total;  // task_loss undefined for external batches
  Tensor class_logits;                // [B, C] for task batches
};

class TlmTask : public PricedTask {
 public:
  explicit TlmTask(const TlmOptions& options = {});
  std::string name() const override { return "tlm"; }
  Tensor loss(const Model& model, ForwardContext& context, const Batch& batch) const override;
  // Task batches: the classification loss and accuracy (what TLM is judged
  // by); external batches: MLM token loss and accuracy.
  CrossEntropyStats stats(const Model& model, const Batch& batch) const override;
  // MLM targets (both kinds).
  int64_t target_count(const Batch& batch) const override;
  StepShape shape(const Model& model, const Batch& batch) const override;
  ModelFlops training_flops(const Model& model, const Batch& batch) const override;

  TlmParts parts(const Model& model, ForwardContext& context, const Batch& batch) const;
  const TlmOptions& options() const { return options_; }

 private:
  TlmOptions options_;
};

}  // namespace graft::recipe_tasks
