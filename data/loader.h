// Deterministic, sharded, resumable batches from a token store.
//
// Samples are numbered 0..N-1: fixed-length windows of the token stream
// (PackedLoader) or whole documents (DocumentLoader). Each epoch visits them
// in a permutation drawn from (seed, epoch). The global batch of step s is
// positions [s*G, (s+1)*G) of its epoch's permutation, G = batch_size *
// dp_size, and data-parallel rank r takes the r-th slice of batch_size. An
// epoch has floor(N / G) steps (the tail is dropped), so within an epoch no
// sample is seen twice on any rank. A batch is a pure function of (seed,
// step, rank): the cursor is just the next step, and resuming from a saved
// cursor reproduces exactly the batches the run would have seen.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/token_store.h"
#include "ops/tensor.h"

namespace graft {

struct LoaderOptions {
  int64_t batch_size = 8;  // per data-parallel rank
  uint64_t seed = 0;
  int dp_rank = 0;
  int dp_size = 1;
};

// What a checkpoint stores to resume a loader; restore() checks that the
// loader it is given was built alike (same seed, sample count, global batch).
struct LoaderCursor {
  int64_t step = 0;  // the next step to load
  uint64_t seed = 0;
  int64_t num_samples = 0;
  int64_t global_batch = 0;

  std::vector<int64_t> to_vector() const;  // for an HDF5 int64 dataset
  static LoaderCursor from_vector(const std::vector<int64_t>& values);
};

// The sharded epoch schedule, independent of what a sample is.
class SampleSchedule {
 public:
  SampleSchedule(int64_t num_samples, const LoaderOptions& options);
  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  int64_t num_samples() const { return num_samples_; }
  int64_t global_batch() const { return global_batch_; }
  // This rank's sample ids at `step` (any step >= 0; epochs follow on).
  std::vector<int64_t> rank_samples(int64_t step) const;
  // The permutation of epoch e (cached: consecutive steps reuse it).
  const std::vector<int64_t>& epoch_order(int64_t epoch) const;

 private:
  int64_t num_samples_;
  int64_t global_batch_;
  int64_t steps_per_epoch_;
  LoaderOptions options_;
  mutable int64_t cached_epoch_ = -1;
  mutable std::vector<int64_t> cached_order_;
};

// Base of both loaders: owns the schedule and the cursor.
class LoaderBase {
 public:
  LoaderCursor cursor() const;
  void restore(const LoaderCursor& cursor);  // InputError when it does not fit
  int64_t step() const { return step_; }
  const SampleSchedule& schedule() const { return schedule_; }

 protected:
  LoaderBase(int64_t num_samples, const LoaderOptions& options);
  SampleSchedule schedule_;
  LoaderOptions options_;
  int64_t step_ = 0;
};

// Fixed-length windows of the concatenated stream (documents end in EOS), for
// CLM, MLM, span corruption and RTD. Sample i = tokens[i*L, (i+1)*L).
class PackedLoader : public LoaderBase {
 public:
  PackedLoader(std::shared_ptr<const TokenStore> store, int64_t sample_length,
               const LoaderOptions& options);
  int64_t sample_length() const { return length_; }
  Tensor batch(int64_t step) const;  // i32 [batch_size, sample_length]
  Tensor next();                     // batch(step()), then advances the cursor

 private:
  std::shared_ptr<const TokenStore> store_;
  int64_t length_;
};

// One document (and its label or target) per sample, for classification and
// seq2seq tasks.
struct Example {
  int64_t index = 0;            // document number in the store
  std::vector<int32_t> tokens;  // ends in EOS
  std::vector<int32_t> target;  // seq2seq only, ends in EOS
  int32_t label = -1;           // classification only
};

class DocumentLoader : public LoaderBase {
 public:
  DocumentLoader(std::shared_ptr<const TokenStore> store, const LoaderOptions& options);
  std::vector<Example> batch(int64_t step) const;
  std::vector<Example> next();

 private:
  std::shared_ptr<const TokenStore> store_;
};

}  // namespace graft
