// Megatron-style tensor-parallel ops: the conjugate pair that brackets every
// column-parallel → row-parallel region, and the vocab-parallel embedding and
// softmax cross-entropy that keep [.., V] tensors sharded by vocabulary.
//
// They live in dist/ because they need a Communicator, but are ordinary tape
// ops (ops/README.md): recorded only when an input needs a gradient, backward
// closures that skip when the output has no gradient. Every rank of `comm`
// must call them in the same order with same-shaped tensors (they run
// collectives forward and/or backward). With a one-rank communicator each
// reduces to its plain counterpart.
#pragma once

#include <cstdint>

#include "dist/communicator.h"
#include "ops/cross_entropy.h"
#include "ops/tensor.h"

namespace graft::dist {

// f: identity forward, all-reduce (sum) of the gradient backward. Put before
// the column-parallel linears that read a replicated activation: each rank's
// shard contributes part of dx. The output shares x's storage.
Tensor copy_to_tp_region(const Tensor& x, Communicator& comm);

// g: all-reduce (sum) forward, identity backward. After a row-parallel linear,
// whose ranks each hold a partial sum.
Tensor reduce_from_tp_region(const Tensor& x, Communicator& comm);

// Vocab-parallel embedding: table_shard [V/size, D] holds vocabulary rows
// [vocab_start, vocab_start + V/size); ids (i32, any shape, every id in
// [0, vocab_size)) outside the slice give zero rows; the partial rows are
// summed over comm, so every rank gets the full [ids.shape, D]. Backward is
// local: each rank scatter-adds into its own rows (identity of the all-reduce).
// FLOPs (other): backward one add per element of the rows this rank owns.
Tensor vocab_parallel_embedding(const Tensor& ids, const Tensor& table_shard, int64_t vocab_start,
                                int64_t vocab_size, Communicator& comm);

// softmax_cross_entropy (ops/cross_entropy.h, same options and result) over
// logits sharded by vocabulary: logits_shard [..., V/size] holds columns
// [vocab_start, vocab_start + V/size). The full logits are never gathered:
// each rank computes per row its slice's max (all-gathered, the max of maxes
// taken), sum of exp, target logit and logit sum (one all-reduce of 3 doubles
// per row), so every rank gets the same loss. Backward is local to the shard.
// FLOPs as softmax_cross_entropy's, per local logit.
Tensor vocab_parallel_cross_entropy(const Tensor& logits_shard, const Tensor& targets,
                                    int64_t vocab_start, int64_t vocab_size, Communicator& comm,
                                    const CrossEntropyOptions& options = {});

}  // namespace graft::dist
