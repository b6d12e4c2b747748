// ELECTRA replaced-token detection, in two steps around the generator:
//  1. make_rtd_masking: choose round(0.15 * maskable) positions per row; of
//     them 85% become [MASK] and 15% keep the original token (ELECTRA's
//     scheme, checked in google-research/electra, not BERT's 80/10/10). The
//     generator reads generator_input and is trained (MLM) on
//     generator_labels.
//  2. make_rtd_batch: once the generator has sampled a token at each masked
//     position, the discriminator reads the original with those positions
//     replaced by the samples and labels each position 1 (replaced) or 0
//     (original); a sample equal to the original counts as original.
#pragma once

#include "recipes/objectives/batch.h"

namespace graft::objectives {

struct RtdOptions {
  double mask_prob = 0.15;        // 0.25 for ELECTRA-large
  double mask_token_frac = 0.85;  // of masked positions; the rest keep the original
};

struct RtdMasking {
  Tensor original;          // [B, T] the input tokens
  Tensor generator_input;   // [B, T] with [MASK] at 85% of the masked positions
  Tensor attention_mask;    // [B, T]
  Tensor masked;            // [B, T] 1 where the generator predicts
  Tensor generator_labels;  // [B, T] original token where masked, kIgnoreIndex elsewhere
};

RtdMasking make_rtd_masking(const Tensor& tokens, const Vocab& vocab, uint64_t seed,
                            const RtdOptions& options = {});

struct RtdBatch {
  Tensor input_ids;       // [B, T] original with masked positions replaced by samples
  Tensor attention_mask;  // [B, T]
  Tensor labels;          // [B, T] 1 replaced, 0 original, kIgnoreIndex at padding
};

// sampled: i32 [B, T], the generator's sample per position (read only where
// masked).
RtdBatch make_rtd_batch(const RtdMasking& masking, const Tensor& sampled);

}  // namespace graft::objectives
