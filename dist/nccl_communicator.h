// Communicator over NCCL for GPU tensors (f32, bf16, f64, i32).
//
// Built from a host communicator over the same ranks: its rank 0 creates the
// NCCL unique id and broadcasts it there, then every rank joins with
// ncclCommInitRank (collective over bootstrap). MpiCommunicator builds one
// lazily at its first device-tensor collective and hands every device tensor
// to it, so layers and the trainer use one communicator for either device.
//
// Collectives run on a communication stream of their own: each waits for the
// work queued so far on the compute stream (an event), and the compute stream
// waits for the collective before anything queued after it. all_reduce_async
// returns at once, so the data-parallel all-reduce of one gradient bucket
// overlaps the backward kernels of the next. The host never blocks except in
// barrier() and ready().
//
// The watchdog does not cover NCCL calls (NCCL has its own timeouts); one
// GPU per rank (ranks on one node take GPU local_rank % count).
#pragma once

#include <memory>
#include <string>

#include "dist/communicator.h"

namespace graft::dist {

// False in a build without CUDA (where make_nccl_communicator throws).
bool nccl_built();

std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, std::string name);

}  // namespace graft::dist
