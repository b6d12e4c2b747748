// Ledgers summed over ranks, for logs, checkpoints and MFU.
//
// Which communicator to sum over is the caller's choice and matters:
// FLOPs are summed over the world (each tensor-parallel rank counts the FLOPs
// of its own shard, each data-parallel replica its own batch), tokens over
// the dp group only (the tp ranks of a replica see the same tokens).
#pragma once

#include <cstdint>

#include "dist/communicator.h"
#include "ops/flops.h"

namespace graft::dist {

// The element-wise sum of every rank's ledger, on every rank.
FlopsLedger sum_over_ranks(const FlopsLedger& local, Communicator& comm);
// Sum of a count (tokens, samples); exact while the total is below 2^53.
int64_t sum_over_ranks(int64_t local, Communicator& comm);
double sum_over_ranks(double local, Communicator& comm);

}  // namespace graft::dist
