// Checkpoints of a tensor-parallel model: the file always holds LOGICAL
// tensors (train/checkpoint.h), so a run saved at tp × dp resumes at any
// other layout. Which dim of a parameter (and of its AdamW moments, which
// share its shape) is split comes from megatron_sharding_rules(), by name.
//
// Saving: every rank calls capture_logical (it gathers over the tp group);
// rank 0 alone writes the file (dp replicas hold identical state). Loading:
// every rank reads the file and restore_sharded cuts its own shards.
#pragma once

#include "model/model.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/optimizer.h"

namespace graft {

// The model's logical parameters and (when optimizer is given) AdamW moments
// and steps, on every rank. Collective over grid.tp. With tp = 1 this is
// capture(): the tensors share the model's storage, so save before the next
// step.
CheckpointContents capture_logical(const Model& model, const AdamW* optimizer,
                                   const TrainingGrid& grid);

// logical with every parameter and moment replaced by this tp rank's shard
// (counters, ledgers, config copied). InputError naming the parameter when
// grid.tp_size does not divide its split dim.
CheckpointContents shard_contents(const CheckpointContents& logical, const TrainingGrid& grid);

// restore() of logical contents into a model built for grid (and its
// optimizer), with restore()'s checks: names and (sharded) shapes must match.
void restore_sharded(const CheckpointContents& logical, Model& model, AdamW* optimizer,
                     const TrainingGrid& grid);

}  // namespace graft
