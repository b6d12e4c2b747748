#include "model/flops.h"

#include "model/counts.h"
#include "ops/check.h"

namespace graft {

FlopsSplit ForwardFlopsParts::total() const {
  FlopsSplit t;
  for (const FlopsSplit* p :
       {&encoder, &decoder, &decoder_cross_kv, &lm_head, &mlm_head, &rtd_head, &classifier}) {
    t += *p;
  }
  return t;
}

ForwardFlopsParts forward_flops_parts(const ModelConfig& c, const StepShape& s) {
  const double b = static_cast<double>(s.batch);
  const double d = static_cast<double>(c.d_model), f = static_cast<double>(c.d_ff);
  const double v = static_cast<double>(c.vocab_size);
  const double se = static_cast<double>(s.encoder_len), sd = static_cast<double>(s.decoder_len);
  const double le = static_cast<double>(c.encoder_layers);
  const double ld = static_cast<double>(c.decoder_layers);
  GRAFT_INPUT_CHECK(s.batch > 0, "FLOPs: batch must be positive, got " << s.batch);
  GRAFT_INPUT_CHECK(!c.has_encoder() || s.encoder_len > 0,
                    "FLOPs: a " << kind_name(c.kind) << " needs encoder_len > 0");
  GRAFT_INPUT_CHECK(!c.has_decoder() || s.decoder_len > 0,
                    "FLOPs: a " << kind_name(c.kind) << " needs decoder_len > 0");
  GRAFT_INPUT_CHECK(!c.decoder_cross_attention() || s.encoder_len > 0,
                    "FLOPs: cross-attention needs encoder_len (the memory length) > 0");

  // Weights of one self-attention + MLP layer that act as GEMMs.
  const double layer_weights = 4 * d * d + 2 * d * f;
  ForwardFlopsParts p;
  if (c.has_encoder()) {
    p.encoder.matmul = 2 * b * se * le * layer_weights;
    p.encoder.attention = 4 * b * se * se * d * le;
  }
  if (c.has_decoder()) {
    p.decoder.matmul = 2 * b * sd * ld * layer_weights;
    p.decoder.attention = 4 * b * sd * sd * d * ld;
    if (c.decoder_cross_attention()) {
      p.decoder.matmul += 2 * b * sd * ld * 2 * d * d;  // Q and O over decoder positions
      p.decoder.attention += 4 * b * sd * se * d * ld;
      p.decoder_cross_kv.matmul = 2 * b * se * ld * 2 * d * d;
    }
  }
  const double top = c.has_decoder() ? sd : se;     // the LM head's positions
  const double bottom = c.has_encoder() ? se : sd;  // MLM / RTD heads' positions
  if (c.lm_head) p.lm_head.matmul = 2 * b * top * d * v;
  if (c.mlm_head) p.mlm_head.matmul = 2 * b * bottom * (d * d + d * v);
  if (c.rtd_head) p.rtd_head.matmul = 2 * b * bottom * (d * d + d);
  if (c.has_classifier()) p.classifier.matmul = 2 * b * static_cast<double>(c.num_classes) * d;
  return p;
}

ModelFlops forward_step_flops(const ModelConfig& c, const StepShape& s) {
  ModelFlops m;
  m.forward = forward_flops_parts(c, s).total();
  return m;
}

ModelFlops training_step_flops(const ModelConfig& c, const StepShape& s) {
  const ForwardFlopsParts parts = forward_flops_parts(c, s);
  ModelFlops m;
  m.forward = parts.total();
  m.backward.matmul = 2 * m.forward.matmul;
  m.backward.attention = 2 * m.forward.attention;
  // A decoder-only model's memory is an input, not a trained activation: its
  // cross K/V projections compute the weight gradient only.
  if (c.kind == ModelKind::decoder) m.backward.matmul -= parts.decoder_cross_kv.matmul;
  return m;
}

double model_flops_per_token(const ModelConfig& c, const StepShape& s) {
  const double per_example = static_cast<double>((c.has_encoder() ? s.encoder_len : 0) +
                                                 (c.has_decoder() ? s.decoder_len : 0));
  return training_step_flops(c, s).total() / (static_cast<double>(s.batch) * per_example);
}

double kaplan_flops_per_token(const ModelConfig& c, bool include_embeddings) {
  const ParameterCounts n = closed_form_parameter_counts(c);
  return 6.0 * static_cast<double>(include_embeddings ? n.total() : n.non_embedding());
}

}  // namespace graft
