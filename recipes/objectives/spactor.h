// SpacTor's hybrid objective (Ye et al. 2024), stage 1:
//  1. make_rtd_masking (rtd.h) on the raw samples: the generator's input.
//  2. After the generator has sampled, make_spactor_batch replaces the masked
//     positions with the samples, then applies T5 span corruption to the
//     replaced row: the encoder reads its non-noise tokens plus sentinels, the
//     decoder reconstructs the ORIGINAL tokens of the noise spans, and the
//     RTD head labels each non-sentinel encoder token replaced (1) or
//     original (0).
// Stage 2 is plain span corruption (span_corruption.h).
#pragma once

#include "recipes/objectives/rtd.h"
#include "recipes/objectives/span_corruption.h"

namespace graft::objectives {

struct SpactorBatch {
  Seq2SeqBatch seq2seq;  // encoder input from the replaced row, targets from the original
  Tensor rtd_labels;     // [B, S] over encoder positions: 1 replaced, 0 original,
                         // kIgnoreIndex at sentinels, EOS and padding
};

// first_row: the global row of the batch's row 0; row b's noise is drawn for
// global row first_row + b, so data-parallel ranks draw a one-rank run's noise.
SpactorBatch make_spactor_batch(const RtdMasking& masking, const Tensor& sampled,
                                const Vocab& vocab, uint64_t seed,
                                const SpanCorruptionOptions& options = {}, int64_t first_row = 0);

}  // namespace graft::objectives
