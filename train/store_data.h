// Batches from HDF5 token stores (`graft data prepare`, data/README.md) for a
// stage whose [data] says source = "store": objectives clm, mlm,
// span_corruption (text stores), classification and seq2seq (stores of those
// kinds), built with recipes/objectives.
//
// Micro-batch (step, micro) is the loader's batch number
// micro_index = (step - 1) · grad_accum + micro over the whole training store
// (each "loader step" is one micro-batch of batch_size rows), and the
// objective's randomness is objective_seed(training.seed, micro_index): a
// pure function of (step, micro), so runs reproduce and resume exactly.
// Validation batches are the first eval_batches loader steps of the valid
// store with a fixed seed (data.split_seed), the same for every run.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "data/token_store.h"
#include "train/batch.h"
#include "train/data_source.h"

namespace graft {

// The loader step of micro-batch `micro` (0-based) of `step` (1-based).
inline int64_t micro_index(int64_t step, int64_t micro, int64_t grad_accum) {
  return (step - 1) * grad_accum + micro;
}

// Loads the store at path and checks its kind; InputError naming key
// ("data.train") and path otherwise.
std::shared_ptr<const TokenStore> load_store_of_kind(const std::string& path, DocumentKind kind,
                                                     const std::string& key);

TrainingData make_store_training_data(const DataConfig& data, const TrainingConfig& training);

}  // namespace graft
