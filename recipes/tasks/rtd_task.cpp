#include "recipes/tasks/rtd_task.h"

#include "data/random.h"
#include "ops/autograd.h"
#include "ops/binary_cross_entropy.h"
#include "ops/cross_entropy.h"
#include "ops/elementwise.h"

namespace graft::recipe_tasks {

Batch rtd_task_batch(const objectives::RtdMasking& masking) {
  Batch b;
  b.input_ids = masking.generator_input;
  b.input_mask = masking.attention_mask;
  b.targets = masking.generator_labels;
  return b;
}

objectives::RtdMasking rtd_masking_of(const Batch& batch) {
  GRAFT_CHECK(batch.input_ids.defined() && batch.targets.defined() &&
                  batch.targets.shape() == batch.input_ids.shape(),
              "an RTD batch needs input_ids and per-position targets of one shape");
  objectives::RtdMasking m;
  m.generator_input = batch.input_ids;
  m.generator_labels = batch.targets;
  m.original = batch.input_ids.clone();
  m.masked = Tensor::zeros(batch.input_ids.shape(), DType::i32);
  int32_t* o = m.original.data<int32_t>();
  int32_t* k = m.masked.data<int32_t>();
  const int32_t* t = batch.targets.data<int32_t>();
  for (int64_t i = 0; i < batch.targets.numel(); ++i) {
    if (t[i] == kIgnoreIndex) continue;
    o[i] = t[i];
    k[i] = 1;
  }
  m.attention_mask = batch.input_mask.defined()
                         ? batch.input_mask
                         : Tensor::full(batch.input_ids.shape(), 1.0, DType::i32);
  return m;
}

Tensor rtd_bce(const Tensor& logits, const Tensor& labels) {
  Tensor y = Tensor::zeros(logits.shape(), logits.dtype());
  Tensor w = Tensor::zeros(logits.shape(), logits.dtype());
  const int32_t* l = labels.data<int32_t>();
  const bool f64 = logits.dtype() == DType::f64;
  for (int64_t i = 0; i < labels.numel(); ++i) {
    if (l[i] == kIgnoreIndex) continue;
    if (f64) {
      y.data<double>()[i] = l[i];
      w.data<double>()[i] = 1;
    } else {
      y.data<float>()[i] = static_cast<float>(l[i]);
      w.data<float>()[i] = 1;
    }
  }
  return bce_with_logits(logits, y, w);
}

Tensor scatter_samples(const Tensor& original, const std::vector<int32_t>& positions,
                       const std::vector<int32_t>& samples) {
  Tensor out = original.clone();
  int32_t* o = out.data<int32_t>();
  for (size_t i = 0; i < positions.size(); ++i)
    o[positions[i]] = samples[i];
  return out;
}

FlopsSplit sum_parts(const ForwardFlopsParts& p, bool encoder, bool decoder, bool lm, bool mlm,
                     bool rtd, bool classifier) {
  FlopsSplit s;
  if (encoder) s += p.encoder;
  if (decoder) {
    s += p.decoder;
    s += p.decoder_cross_kv;
  }
  if (lm) s += p.lm_head;
  if (mlm) s += p.mlm_head;
  if (rtd) s += p.rtd_head;
  if (classifier) s += p.classifier;
  return s;
}

ModelFlops train_three_times(const FlopsSplit& forward) {
  ModelFlops f;
  f.forward = forward;
  f.backward.matmul = 2 * forward.matmul;
  f.backward.attention = 2 * forward.attention;
  return f;
}

RtdTask::RtdTask(Model& discriminator, const RtdTaskOptions& options)
    : options_(options), generator_(discriminator, "encoder", options.generator) {
  GRAFT_INPUT_CHECK(
      discriminator.config().kind == ModelKind::encoder && discriminator.config().rtd_head,
      "the RTD discriminator must be an encoder with an rtd head");
}

RtdParts RtdTask::parts(const Model& model, ForwardContext& context, const Batch& batch) const {
  GRAFT_CHECK(&model == &generator_.host(),
              "RtdTask was built for another model: its generator lives in that model");
  const objectives::RtdMasking masking = rtd_masking_of(batch);
  const std::vector<int32_t> positions = labelled_positions(masking.generator_labels);
  RtdParts r;
  r.predicted = static_cast<int64_t>(positions.size());
  const Tensor pos = Tensor::from_vector(positions, {r.predicted});
  const Tensor gen_logits =
      generator_.logits(context, masking.generator_input, batch.input_mask, pos);
  const Tensor gen_labels = gather_ids(masking.generator_labels, positions);
  r.mlm_loss = softmax_cross_entropy(gen_logits, gen_labels);
  const std::vector<int32_t> samples =
      gumbel_max_samples(gen_logits, derive_seed(options_.seed, context.seed()),
                         global_positions(positions, context.first_row(), masking.original.dim(1)));
  r.disc =
      objectives::make_rtd_batch(masking, scatter_samples(masking.original, positions, samples));
  const Tensor hidden = model.encode(context, r.disc.input_ids, r.disc.attention_mask);
  r.rtd_logits = model.rtd_logits(hidden);
  r.rtd_loss = rtd_bce(r.rtd_logits, r.disc.labels);
  r.total = add(scale(r.mlm_loss, options_.weights.mlm), scale(r.rtd_loss, options_.weights.rtd));
  return r;
}

Tensor RtdTask::loss(const Model& model, ForwardContext& context, const Batch& batch) const {
  return parts(model, context, batch).total;
}

CrossEntropyStats RtdTask::stats(const Model& model, const Batch& batch) const {
  ForwardContext evaluation;
  const RtdParts r = parts(model, evaluation, batch);
  CrossEntropyStats s{0, 0, 0};
  const int32_t* l = r.disc.labels.data<int32_t>();
  const Tensor logits = r.rtd_logits.to(DType::f64);
  const double* x = logits.data<double>();
  for (int64_t i = 0; i < r.disc.labels.numel(); ++i) {
    if (l[i] == kIgnoreIndex) continue;
    ++s.count;
    s.correct += (x[i] > 0 ? 1 : 0) == l[i];
  }
  s.loss_sum = r.mlm_loss.to(DType::f64).data<double>()[0] * static_cast<double>(s.count);
  return s;
}

int64_t RtdTask::target_count(const Batch& batch) const {
  if (!batch.input_mask.defined()) return batch.input_ids.numel();
  int64_t n = 0;
  const int32_t* m = batch.input_mask.data<int32_t>();
  for (int64_t i = 0; i < batch.input_mask.numel(); ++i)
    n += m[i] != 0;
  return n;
}

StepShape RtdTask::shape(const Model& model, const Batch& batch) const {
  StepShape s;
  s.batch = batch.batch_size();
  s.encoder_len = batch.input_ids.dim(1);
  return s;
}

ModelFlops RtdTask::training_flops(const Model& model, const Batch& batch) const {
  const StepShape s = shape(model, batch);
  FlopsSplit f =
      sum_parts(forward_flops_parts(model.config(), s), true, false, false, false, true, false);
  f += generator_.forward_flops(s.batch, s.encoder_len,
                                static_cast<int64_t>(labelled_positions(batch.targets).size()));
  return train_three_times(f);
}

}  // namespace graft::recipe_tasks
