// Extracting the encoder of an encoder-decoder (Soltan et al. 2023,
// "seq2seq → encoder"): the encoder keeps every weight it had inside the
// seq2seq model.
#pragma once

#include <cstdint>

#include "recipes/transforms/transform.h"

namespace graft {

// source: a model with an encoder (normally an encoder-decoder); target: kind
// encoder with the source's blocks, encoder_layers and vocab_size (InputError
// naming the key otherwise).
//   copied  embed.tokens.weight, encoder.* (positions, layers, final norm);
//           mlm_head.*, rtd_head.*, classifier.* where the source has them
//           with the same shape (they read the encoder in both models)
//   random  everything else: an untied lm_head.weight (the source's read its
//           decoder) and heads the source lacks
TransformResult extract_encoder(const SourceModel& source, const ModelConfig& target,
                                uint64_t seed = 0);

}  // namespace graft
