// What the training layer needs to know about a tp × dp run, and the pieces
// of a step that differ from one process: which rows of the global batch this
// rank trains on, the global gradient norm over sharded parameters, and
// evaluation statistics over vocabulary-sharded logits.
//
// A TrainingGrid is a plain view of a dist::DistContext (which owns MPI and
// the communicators); the default one is a single process, for which every
// function here is the one-process computation, bit for bit.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "model/parameters.h"
#include "model/tensor_parallel.h"
#include "ops/cross_entropy.h"
#include "train/batch.h"

namespace graft {

namespace dist {
class Communicator;
class DistContext;
}  // namespace dist

struct TrainingGrid {
  dist::Communicator* world = nullptr;  // null: one process
  dist::Communicator* tp = nullptr;
  dist::Communicator* dp = nullptr;
  int rank = 0, world_size = 1;
  int tp_rank = 0, tp_size = 1;
  int dp_rank = 0, dp_size = 1;

  bool distributed() const { return world_size > 1; }
  // Only rank 0 prints progress and writes the run folder and checkpoints.
  bool is_root() const { return rank == 0; }
  TensorParallel tensor_parallel() const { return TensorParallel{tp, tp_rank, tp_size}; }
};

TrainingGrid training_grid(dist::DistContext& context);

// Rows [begin, begin + count) of every per-example tensor of b. text_bytes is
// split in proportion to the rows (it is only read summed over all ranks).
Batch batch_rows(const Batch& b, int64_t begin, int64_t count);

// This dp rank's rows [r·B/dp, (r+1)·B/dp) of a global micro-batch of B rows;
// InputError when dp does not divide B.
Batch dp_shard(const Batch& global, int dp_rank, int dp_size);

// The global gradient norm, the same on every rank: the sum of squares of
// tp-sharded gradients is all-reduced over tp, replicated ones (identical on
// every tp rank) are counted once; dp ranks hold averaged, identical
// gradients. Parameters that are frozen or have no gradient are skipped. With
// one tp rank it is ops/grad_norm.h's global_grad_norm, bit for bit.
double distributed_grad_norm(const Parameters& params, const TrainingGrid& grid);

// clip_grad_norm with distributed_grad_norm: scales every gradient by
// max_norm / (norm + 1e-6) when the norm is finite and above max_norm (> 0).
// Returns the norm before clipping.
double distributed_clip_grad_norm(const Parameters& params, const TrainingGrid& grid,
                                  double max_norm);

// cross_entropy_stats over logits sharded by vocabulary (model built with
// tp): summed NLL through vocab_cross_entropy, argmax from each shard's
// maximum (ties to the lowest id, as argmax over the full row). Collective
// over tp; the logits are never gathered.
CrossEntropyStats vocab_cross_entropy_stats(const TensorParallel& tp, int64_t vocab_size,
                                            const Tensor& logits, const Tensor& targets,
                                            int32_t ignore_index = -100);

}  // namespace graft
