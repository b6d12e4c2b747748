#include "train/task.h"

#include "model/tensor_parallel.h"
#include "train/distributed.h"

namespace graft {

int64_t Task::target_count(const Batch& batch) const {
  GRAFT_CHECK(batch.targets.defined() && batch.targets.dtype() == DType::i32,
              "a batch needs i32 targets");
  int64_t count = 0;
  // Targets of a batch already on the GPU are read back (a small copy).
  const std::vector<int32_t> t = batch.targets.to_vector<int32_t>();
  for (int32_t target : t)
    count += target != kIgnoreIndex;
  return count;
}

StepShape Task::shape(const Model& model, const Batch& batch) const {
  StepShape s;
  s.batch = batch.batch_size();
  const ModelConfig& c = model.config();
  const int64_t len = batch.input_ids.dim(1);
  if (c.kind == ModelKind::encoder) {
    s.encoder_len = len;
  } else {
    s.decoder_len = len;
    if (batch.encoder_ids.defined()) s.encoder_len = batch.encoder_ids.dim(1);
  }
  return s;
}

Tensor model_hidden(const Model& model, ForwardContext& context, const Batch& batch) {
  switch (model.config().kind) {
    case ModelKind::encoder:
      return model.encode(context, batch.input_ids, batch.input_mask);
    case ModelKind::decoder:
      return model.decode(context, batch.input_ids, batch.input_mask);
    case ModelKind::encoder_decoder: {
      GRAFT_CHECK(batch.encoder_ids.defined(), "an encoder-decoder batch needs encoder_ids");
      Tensor memory = model.encode(context, batch.encoder_ids, batch.encoder_mask);
      return model.decode(context, batch.input_ids, batch.input_mask, memory, batch.encoder_mask);
    }
  }
  GRAFT_CHECK(false, "unknown model kind");
  return Tensor();
}

Tensor TokenPredictionTask::logits(const Model& model, ForwardContext& context,
                                   const Batch& batch) const {
  Tensor hidden = model_hidden(model, context, batch);
  return head_ == Head::lm ? model.lm_logits(hidden) : model.mlm_logits(hidden);
}

Tensor TokenPredictionTask::loss(const Model& model, ForwardContext& context,
                                 const Batch& batch) const {
  CrossEntropyOptions options;
  options.ignore_index = kIgnoreIndex;
  options.label_smoothing = label_smoothing_;
  // Under tp the logits hold this rank's vocabulary slice; the loss never
  // gathers them (softmax_cross_entropy when tp is off).
  return vocab_cross_entropy(model.tensor_parallel(), model.config().vocab_size,
                             logits(model, context, batch), batch.targets, options);
}

CrossEntropyStats TokenPredictionTask::stats(const Model& model, const Batch& batch) const {
  ForwardContext evaluation;
  return vocab_cross_entropy_stats(model.tensor_parallel(), model.config().vocab_size,
                                   logits(model, evaluation, batch), batch.targets, kIgnoreIndex);
}

Tensor ClassificationTask::logits(const Model& model, ForwardContext& context,
                                  const Batch& batch) const {
  const Tensor& mask =
      model.config().kind == ModelKind::encoder_decoder ? batch.encoder_mask : batch.input_mask;
  // An encoder-decoder classifies from its encoder, as the heads' FLOPs assume.
  Tensor hidden = model.config().kind == ModelKind::encoder_decoder
                      ? model.encode(context, batch.encoder_ids, batch.encoder_mask)
                      : model_hidden(model, context, batch);
  return model.classify(hidden, mask);
}

Tensor ClassificationTask::loss(const Model& model, ForwardContext& context,
                                const Batch& batch) const {
  return softmax_cross_entropy(logits(model, context, batch), batch.targets);
}

CrossEntropyStats ClassificationTask::stats(const Model& model, const Batch& batch) const {
  ForwardContext evaluation;
  return cross_entropy_stats(logits(model, evaluation, batch), batch.targets, kIgnoreIndex);
}

}  // namespace graft
