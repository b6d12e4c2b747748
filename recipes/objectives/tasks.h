// Fine-tuning and evaluation batches from DocumentLoader examples.
#pragma once

#include <vector>

#include "data/loader.h"
#include "recipes/objectives/batch.h"

namespace graft::objectives {

// input_ids = [CLS] text [SEP] (the store's EOS dropped), truncated to
// max_length keeping [SEP] last, padded; labels = the examples' class ids.
ClassificationBatch make_classification_batch(const std::vector<Example>& examples,
                                              int64_t max_length);

// Encoder input = source, decoder labels = target (each ending in EOS,
// truncated to the maxima keeping EOS last), padded to the longest row.
Seq2SeqBatch make_seq2seq_batch(const std::vector<Example>& examples, int64_t max_source_length,
                                int64_t max_target_length);

}  // namespace graft::objectives
