// Tensor parallelism for the model layer (Megatron-LM's scheme).
//
// A model built with TensorParallel{comm, rank, size} holds, under the same
// LOGICAL names as a one-rank model, only this rank's shard of each split
// parameter; which dim is split is a rule keyed by name
// (megatron_sharding_rules). Checkpoints and transforms speak logical
// tensors: gather_logical assembles them from the tp ranks, shard_logical
// cuts them for any rank of any tp size.
//
//   attention q, k, v   column-parallel: weight and bias split by output rows
//                       (whole heads per rank); o row-parallel: weight split
//                       by input columns, partial sums all-reduced, the
//                       replicated bias added once after the reduction
//   mlp.up              column-parallel (+ GELU on the shard); mlp.down row
//   embed.tokens        vocab-parallel: each rank owns rows
//                       [rank·V/tp, (rank+1)·V/tp); lm_head.weight and
//                       mlm_head.bias split the same way, so LM / MLM logits
//                       stay sharded [.., V/tp] and the loss is
//                       vocab_cross_entropy (logits never gathered)
//   everything else     replicated: norms, positions, the MLM transform, the
//                       RTD head and the classifier (they run after the final
//                       norm on the replicated hidden states, identically on
//                       every tp rank, so their gradients agree without
//                       communication)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/parameters.h"
#include "ops/cross_entropy.h"
#include "ops/tensor.h"

namespace graft {

namespace dist {
class Communicator;
}

struct TensorParallel {
  dist::Communicator* comm = nullptr;  // the tp group (DistContext::tp())
  int rank = 0;
  int size = 1;
  bool enabled() const { return size > 1; }
  // This rank's slice [begin, begin + n / size) of a dimension of n.
  int64_t slice_begin(int64_t n) const { return n / size * rank; }
};

// Parameters whose name matches pattern (glob_match) are split along dim;
// dim -1 means replicated. The first matching rule wins; no match: replicated.
struct ShardRule {
  std::string pattern;
  int dim;
};
using ShardingRules = std::vector<ShardRule>;

const ShardingRules& megatron_sharding_rules();
int shard_dim(const ShardingRules& rules, const std::string& name);

// A copy of rank's slice of logical along dim (dim -1: a copy of the whole);
// InputError naming name when size does not divide the dimension.
Tensor shard_tensor(const Tensor& logical, int dim, int rank, int size,
                    const std::string& name = "tensor");
// Inverse of shard_tensor: the logical tensor from every rank's shard, in
// rank order (dim -1: a copy of shards[0]).
Tensor concat_shards(const std::vector<Tensor>& shards, int dim);
// The logical tensor on every rank of comm, from each rank's shard.
Tensor gather_tensor(const Tensor& shard, int dim, dist::Communicator& comm);

// Logical copies of every parameter (same names, order and trainability;
// aliases kept), gathered over the tp group. Collective: every tp rank calls it.
Parameters gather_logical(const Parameters& local, const ShardingRules& rules,
                          dist::Communicator& comm);
// Writes rank's shard of each logical parameter into local's tensor of the
// same name (every name of local must be in logical; shapes checked).
void shard_logical(const Parameters& logical, const Parameters& local, const ShardingRules& rules,
                   int rank, int size);

// Checks that config can be split size ways (num_heads, d_ff, vocab_size
// divisible; no BERTShare aliasing): InputError naming the field and tp.
void check_tensor_parallel(const ModelConfig& config, const TensorParallel& tp);

// f and g of Megatron: identity when tp is off.
Tensor tp_copy(const TensorParallel& tp, const Tensor& x);
Tensor tp_reduce(const TensorParallel& tp, const Tensor& x);

// The loss for LM / MLM logits of a model built with tp: softmax_cross_entropy
// when tp is off, dist::vocab_parallel_cross_entropy over the vocabulary
// shard otherwise.
Tensor vocab_cross_entropy(const TensorParallel& tp, int64_t vocab_size, const Tensor& logits,
                           const Tensor& targets, const CrossEntropyOptions& options = {});

}  // namespace graft
