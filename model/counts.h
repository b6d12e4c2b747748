// Closed-form parameter counts of a ModelConfig, without building the model:
// what the FLOPs formulas use for N, and what tests check the built registry
// against.
#pragma once

#include <cstdint>

#include "model/config.h"

namespace graft {

struct ParameterCounts {
  int64_t token_embedding = 0;   // embed.tokens.weight
  int64_t positions = 0;         // encoder/decoder.positions.weight (learned only)
  int64_t encoder = 0;           // encoder.* except positions
  int64_t decoder = 0;           // decoder.* except positions
  int64_t heads = 0;             // lm_head, mlm_head, rtd_head, classifier
  int64_t decoder_cross_kv = 0;  // decoder.layers.*.cross_attn.{k,v}.weight (N_xKV of RECIPES.md)
  // share_encoder_decoder: the decoder's positions and layers (all but
  // cross-attention) are the encoder's tensors. Counted in positions and
  // decoder above, as the compute runs through them twice; stored once.
  int64_t decoder_shared = 0;

  int64_t embedding() const { return token_embedding + positions; }
  int64_t total() const { return embedding() + encoder + decoder + heads; }
  // Distinct tensors' elements: what the registry (Parameters::numel) holds.
  int64_t stored() const { return total() - decoder_shared; }
  // Kaplan's N: everything but the embeddings (an untied LM head is counted,
  // as it is a GEMM over the hidden states).
  int64_t non_embedding() const { return total() - embedding(); }
};

ParameterCounts closed_form_parameter_counts(const ModelConfig& config);

}  // namespace graft
