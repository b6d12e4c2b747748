#include "recipes/tasks/spactor_task.h"

#include <algorithm>
#include <cmath>

#include "data/random.h"
#include "ops/cross_entropy.h"
#include "ops/elementwise.h"
#include "recipes/objectives/spactor.h"

namespace graft::recipe_tasks {

int64_t spactor_tau(int64_t baseline_steps, double fraction) {
  GRAFT_INPUT_CHECK(baseline_steps > 0 && fraction > 0 && fraction <= 1,
                    "SpacTor tau needs baseline_steps > 0 and a fraction in (0, 1]");
  return std::max<int64_t>(1, std::llround(static_cast<double>(baseline_steps) * fraction));
}

Batch seq2seq_task_batch(const objectives::Seq2SeqBatch& s) {
  Batch b;
  b.encoder_ids = s.input_ids;
  b.encoder_mask = s.attention_mask;
  b.input_ids = s.decoder_input_ids;
  b.input_mask = s.decoder_attention_mask;
  b.targets = s.labels;
  return b;
}

namespace {

// Sampling and span-corruption seeds of one forward: distinct streams of the
// same (options seed, context seed).
uint64_t sample_seed(uint64_t seed, uint64_t context) {
  return derive_seed(derive_seed(seed, context), 1);
}
uint64_t noise_seed(uint64_t seed, uint64_t context) {
  return derive_seed(derive_seed(seed, context), 2);
}

// (encoder length, decoder length) span corruption gives the original rows,
// and the summed decoder targets.
struct ScLengths {
  int64_t encoder = 0, decoder = 0, targets = 0;
};

ScLengths sc_lengths(const Tensor& original, const objectives::SpanCorruptionOptions& options) {
  ScLengths out;
  for (const auto& row : objectives::tensor_rows(original)) {
    const int64_t len = objectives::unpadded_length(row);
    const auto [in, tgt] = objectives::span_corruption_lengths(len, options);
    out.encoder = std::max(out.encoder, in);
    out.decoder = std::max(out.decoder, tgt);
    out.targets += tgt;
  }
  return out;
}

}  // namespace

SpactorHybridTask::SpactorHybridTask(Model& t5, const Vocab& vocab, const SpactorOptions& options)
    : vocab_(vocab), options_(options), generator_(t5, "encoder", options.generator) {
  GRAFT_INPUT_CHECK(
      t5.config().kind == ModelKind::encoder_decoder && t5.config().rtd_head && t5.config().lm_head,
      "SpacTor needs an encoder-decoder with lm and rtd heads");
}

SpactorStage1Parts SpactorHybridTask::parts(const Model& model, ForwardContext& context,
                                            const Batch& batch) const {
  GRAFT_CHECK(&model == &generator_.host(),
              "SpactorHybridTask was built for another model: its generator lives in that model");
  const objectives::RtdMasking masking = rtd_masking_of(batch);
  const std::vector<int32_t> positions = labelled_positions(masking.generator_labels);
  const int64_t n = static_cast<int64_t>(positions.size());
  const Tensor gen_logits = generator_.logits(context, masking.generator_input, batch.input_mask,
                                              Tensor::from_vector(positions, {n}));
  SpactorStage1Parts p;
  p.mlm_loss = softmax_cross_entropy(gen_logits, gather_ids(masking.generator_labels, positions));
  const std::vector<int32_t> samples =
      gumbel_max_samples(gen_logits, sample_seed(options_.seed, context.seed()),
                         global_positions(positions, context.first_row(), masking.original.dim(1)));
  p.batch = objectives::make_spactor_batch(
      masking, scatter_samples(masking.original, positions, samples), vocab_,
      noise_seed(options_.seed, context.seed()), options_.span_corruption, context.first_row());
  const objectives::Seq2SeqBatch& s = p.batch.seq2seq;
  const Tensor memory = model.encode(context, s.input_ids, s.attention_mask);
  const Tensor decoded = model.decode(context, s.decoder_input_ids, s.decoder_attention_mask,
                                      memory, s.attention_mask);
  p.sc_logits = model.lm_logits(decoded);
  p.sc_loss = softmax_cross_entropy(p.sc_logits, s.labels);
  p.rtd_logits = model.rtd_logits(memory);
  p.rtd_loss = rtd_bce(p.rtd_logits, p.batch.rtd_labels);
  p.total = add(add(p.sc_loss, scale(p.rtd_loss, options_.lambda_rtd)),
                scale(p.mlm_loss, options_.lambda_mlm));
  return p;
}

Tensor SpactorHybridTask::loss(const Model& model, ForwardContext& context,
                               const Batch& batch) const {
  return parts(model, context, batch).total;
}

CrossEntropyStats SpactorHybridTask::stats(const Model& model, const Batch& batch) const {
  ForwardContext evaluation;
  const SpactorStage1Parts p = parts(model, evaluation, batch);
  return cross_entropy_stats(p.sc_logits, p.batch.seq2seq.labels, kIgnoreIndex);
}

int64_t SpactorHybridTask::target_count(const Batch& batch) const {
  return sc_lengths(rtd_masking_of(batch).original, options_.span_corruption).targets;
}

StepShape SpactorHybridTask::shape(const Model& model, const Batch& batch) const {
  const ScLengths l = sc_lengths(rtd_masking_of(batch).original, options_.span_corruption);
  StepShape s;
  s.batch = batch.batch_size();
  s.encoder_len = l.encoder;
  s.decoder_len = l.decoder;
  return s;
}

ModelFlops SpactorHybridTask::training_flops(const Model& model, const Batch& batch) const {
  const StepShape s = shape(model, batch);
  FlopsSplit f =
      sum_parts(forward_flops_parts(model.config(), s), true, true, true, false, true, false);
  f += generator_.forward_flops(s.batch, batch.input_ids.dim(1),
                                static_cast<int64_t>(labelled_positions(batch.targets).size()));
  return train_three_times(f);
}

ModelFlops SpactorPlainTask::training_flops(const Model& model, const Batch& batch) const {
  const StepShape s = shape(model, batch);
  return train_three_times(
      sum_parts(forward_flops_parts(model.config(), s), true, true, true, false, false, false));
}

SwitchingTask::SwitchingTask(const PricedTask& first, const PricedTask& second, int64_t tau)
    : first_(first), second_(second), tau_(tau) {
  GRAFT_INPUT_CHECK(tau >= 0, "switch step tau must be >= 0, got " << tau);
}

Batch spactor_step_batch(const Tensor& windows, const Vocab& vocab, uint64_t seed, int64_t step,
                         int64_t tau, const SpactorOptions& options) {
  const uint64_t s = objectives::objective_seed(seed, step);
  if (step <= tau) return rtd_task_batch(objectives::make_rtd_masking(windows, vocab, s));
  return seq2seq_task_batch(
      objectives::make_span_corruption_batch(windows, vocab, s, options.span_corruption));
}

}  // namespace graft::recipe_tasks
