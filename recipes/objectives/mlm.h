// BERT masked-LM batches: of the chosen positions 80% become [MASK], 10% a
// random ordinary token, 10% stay unchanged; the loss is taken on the chosen
// positions only.
#pragma once

#include "recipes/objectives/batch.h"

namespace graft::objectives {

struct MlmOptions {
  double mask_prob = 0.15;         // share of maskable positions chosen
  double mask_token_frac = 0.8;    // of those: replaced by [MASK]
  double random_token_frac = 0.1;  // of those: replaced by a random ordinary token
};

// tokens: i32 [B, T] (packed windows or padded documents).
LmBatch make_mlm_batch(const Tensor& tokens, const Vocab& vocab, uint64_t seed,
                       const MlmOptions& options = {});

}  // namespace graft::objectives
