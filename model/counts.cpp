#include "model/counts.h"

namespace graft {

ParameterCounts closed_form_parameter_counts(const ModelConfig& c) {
  const int64_t d = c.d_model, f = c.d_ff, v = c.vocab_size;
  const int64_t norm = c.norm == NormKind::layer ? 2 * d : d;
  const int64_t attention = 4 * d * d + 4 * d;  // q, k, v, o with biases
  const int64_t mlp = 2 * d * f + f + d;        // up and down with biases
  const int64_t self_layer = norm + attention + norm + mlp;
  const int64_t cross = norm + attention;
  const int64_t positions = c.positions == PositionKind::learned ? c.max_positions * d : 0;

  ParameterCounts n;
  n.token_embedding = v * d;
  if (c.has_encoder()) {
    n.positions += positions;
    n.encoder = c.encoder_layers * self_layer + norm;
  }
  if (c.has_decoder()) {
    n.positions += positions;
    const bool x = c.decoder_cross_attention();
    n.decoder = c.decoder_layers * (self_layer + (x ? cross : 0)) + norm;
    n.decoder_cross_kv = x ? c.decoder_layers * 2 * d * d : 0;
    if (c.share_encoder_decoder)
      n.decoder_shared = positions + c.decoder_layers * self_layer + norm;
  }
  if (c.lm_head && !c.tie_embeddings) n.heads += v * d;
  if (c.mlm_head) n.heads += d * d + d + norm + v;
  if (c.rtd_head) n.heads += d * d + d + d + 1;
  if (c.has_classifier()) n.heads += c.num_classes * d + c.num_classes;
  return n;
}

}  // namespace graft
