// Token selection shared by MLM and RTD: which positions may be masked, and
// exactly how many are chosen.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "data/random.h"
#include "data/vocab.h"

namespace graft::objectives {

// Ordinary tokens and <unk> may be masked; pad, bos, eos, [CLS], [SEP],
// [MASK] and sentinels never are.
inline bool maskable(int32_t id, const Vocab& vocab) {
  return vocab.is_ordinary(id) || id == kUnkId;
}

// Exactly round(prob * maskable) positions of `row` (at least one when any
// is maskable), chosen uniformly, in increasing order. A fixed count, as in
// BERT's and ELECTRA's data pipelines, rather than a Bernoulli per position.
std::vector<int64_t> choose_masked_positions(std::span<const int32_t> row, const Vocab& vocab,
                                             double prob, Rng& rng);

}  // namespace graft::objectives
