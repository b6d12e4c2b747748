// Causal LM (next-token prediction) batches.
#pragma once

#include "recipes/objectives/batch.h"

namespace graft::objectives {

// windows: i32 [B, T+1] packed samples (PackedLoader with length T+1).
// input_ids = windows[:, :T], labels = windows[:, 1:]; pad in the labels
// is ignored and pad in the inputs is masked out of attention.
LmBatch make_clm_batch(const Tensor& windows);

}  // namespace graft::objectives
