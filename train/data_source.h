// Training and validation batches for a stage, from its [data] section.
//
// Today: source "fortunes" (Debian's fortune files, split by document with
// data.split_seed, byte tokens, packed) with objective "clm". The HDF5 token
// store ("store") and the MLM / span-corruption objectives plug in here: a
// case in make_training_data that returns their MicroBatchSource and
// validation batches, plus a Task (train/task.h) from make_task.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "train/loop.h"
#include "train/stage_config.h"
#include "train/task.h"

namespace graft {

struct TrainingData {
  MicroBatchSource train;
  std::vector<Batch> valid;  // training.eval_batches batches (fewer if the split is small)
  std::string description;   // one line for logs
  // The serialized SentencePiece model the batches were tokenized with, saved
  // in every checkpoint; empty for byte-level tokens (nothing to save).
  std::string tokenizer;
  // How many token ids the batches may hold (a token store's vocabulary,
  // sentinels at its top included): run_stage refuses a model.vocab_size
  // below it before the run folder is written. 0: not known (not checked).
  int64_t vocab_size = 0;
};

TrainingData make_training_data(const DataConfig& data, const TrainingConfig& training);

// The Task data.objective trains (clm: next-token cross-entropy, LM head).
std::unique_ptr<Task> make_task(const DataConfig& data, const ModelConfig& model);

}  // namespace graft
