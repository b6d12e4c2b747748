#include "recipes/tasks/tlm_task.h"

#include "ops/cross_entropy.h"
#include "ops/elementwise.h"

namespace graft::recipe_tasks {

namespace {

// The MLM labels [B, T] and class labels [B] a task batch packs together.
std::pair<Tensor, Tensor> split_task_targets(const Batch& batch) {
  const int64_t rows = batch.input_ids.dim(0), len = batch.input_ids.dim(1);
  Tensor mlm = Tensor::empty({rows, len}, DType::i32);
  Tensor labels = Tensor::empty({rows}, DType::i32);
  const int32_t* t = batch.targets.data<int32_t>();
  for (int64_t b = 0; b < rows; ++b) {
    for (int64_t i = 0; i < len; ++i)
      mlm.data<int32_t>()[b * len + i] = t[b * (len + 1) + i];
    labels.data<int32_t>()[b] = t[b * (len + 1) + len];
  }
  return {mlm, labels};
}

Tensor mlm_targets(const Batch& batch) {
  return is_tlm_task_batch(batch) ? split_task_targets(batch).first : batch.targets;
}

}  // namespace

Batch tlm_external_batch(const objectives::LmBatch& mlm) {
  Batch b;
  b.input_ids = mlm.input_ids;
  b.input_mask = mlm.attention_mask;
  b.targets = mlm.labels;
  return b;
}

Batch tlm_task_batch(const objectives::LmBatch& mlm, const Tensor& labels) {
  const int64_t rows = mlm.input_ids.dim(0), len = mlm.input_ids.dim(1);
  GRAFT_CHECK(labels.ndim() == 1 && labels.dim(0) == rows, "one class label per task example");
  Batch b = tlm_external_batch(mlm);
  b.targets = Tensor::empty({rows, len + 1}, DType::i32);
  int32_t* t = b.targets.data<int32_t>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < len; ++i)
      t[r * (len + 1) + i] = mlm.labels.data<int32_t>()[r * len + i];
    t[r * (len + 1) + len] = labels.data<int32_t>()[r];
  }
  return b;
}

bool is_tlm_task_batch(const Batch& batch) {
  return batch.targets.ndim() == 2 && batch.targets.dim(1) == batch.input_ids.dim(1) + 1;
}

bool tlm_task_step(int64_t step, int64_t rho1) {
  GRAFT_INPUT_CHECK(step >= 1 && rho1 >= 0, "TLM steps are 1-based and rho1 >= 0");
  return (step - 1) % (rho1 + 1) == 0;
}

TlmTask::TlmTask(const TlmOptions& options) : options_(options) {
  GRAFT_INPUT_CHECK(options.rho1 >= 0 && options.rho2 >= 0, "TLM needs rho1, rho2 >= 0");
}

TlmParts TlmTask::parts(const Model& model, ForwardContext& context, const Batch& batch) const {
  GRAFT_INPUT_CHECK(model.config().kind == ModelKind::encoder && model.config().mlm_head,
                    "TLM trains an encoder with an mlm head");
  TlmParts p;
  const Tensor hidden = model.encode(context, batch.input_ids, batch.input_mask);
  if (!is_tlm_task_batch(batch)) {
    p.mlm_loss = softmax_cross_entropy(model.mlm_logits(hidden), batch.targets);
    p.total = p.mlm_loss;
    return p;
  }
  const auto [mlm, labels] = split_task_targets(batch);
  p.mlm_loss = softmax_cross_entropy(model.mlm_logits(hidden), mlm);
  p.class_logits = model.classify(hidden, batch.input_mask);
  p.task_loss = softmax_cross_entropy(p.class_logits, labels);
  p.total = scale(add(scale(p.mlm_loss, options_.rho2), p.task_loss), 1.0 / (options_.rho2 + 1));
  return p;
}

Tensor TlmTask::loss(const Model& model, ForwardContext& context, const Batch& batch) const {
  return parts(model, context, batch).total;
}

CrossEntropyStats TlmTask::stats(const Model& model, const Batch& batch) const {
  ForwardContext evaluation;
  const Tensor hidden = model.encode(evaluation, batch.input_ids, batch.input_mask);
  if (!is_tlm_task_batch(batch))
    return cross_entropy_stats(model.mlm_logits(hidden), batch.targets, kIgnoreIndex);
  return cross_entropy_stats(model.classify(hidden, batch.input_mask),
                             split_task_targets(batch).second, kIgnoreIndex);
}

int64_t TlmTask::target_count(const Batch& batch) const {
  const Tensor t = mlm_targets(batch);
  int64_t n = 0;
  for (int64_t i = 0; i < t.numel(); ++i)
    n += t.data<int32_t>()[i] != kIgnoreIndex;
  return n;
}

StepShape TlmTask::shape(const Model& model, const Batch& batch) const {
  StepShape s;
  s.batch = batch.batch_size();
  s.encoder_len = batch.input_ids.dim(1);
  return s;
}

ModelFlops TlmTask::training_flops(const Model& model, const Batch& batch) const {
  const bool task = is_tlm_task_batch(batch);
  return train_three_times(sum_parts(forward_flops_parts(model.config(), shape(model, batch)), true,
                                     false, false, true, false, task));
}

}  // namespace graft::recipe_tasks
