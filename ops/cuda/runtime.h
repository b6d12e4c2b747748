// CUDA-typed helpers for the backend's own sources (ops/cuda/*.cu, dist/'s
// NCCL code): checked calls, the compute stream, launch sizes. Never included
// by device-neutral code; that uses ops/cuda/backend.h.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "ops/check.h"
#include "ops/cuda/backend.h"

namespace graft::cuda {

[[noreturn]] void fail_cuda(cudaError_t status, const char* expression, const char* file, int line);

// Every CUDA runtime call goes through this: an error becomes a graft::Error
// naming the call, the CUDA error and the source location.
#define GRAFT_CUDA_CHECK(expression)                                                 \
  do {                                                                               \
    cudaError_t graft_cuda_status_ = (expression);                                   \
    if (graft_cuda_status_ != cudaSuccess)                                           \
      ::graft::cuda::fail_cuda(graft_cuda_status_, #expression, __FILE__, __LINE__); \
  } while (0)

// After every kernel launch: a bad configuration shows up here, not later.
#define GRAFT_CUDA_CHECK_LAUNCH() GRAFT_CUDA_CHECK(cudaGetLastError())

// The one stream every op's kernels, GEMMs and copies are queued on, so
// kernels are ordered without events and the allocator can hand a freed block
// to the next request at once (its next user queues behind its last).
cudaStream_t stream();

int multiprocessor_count();

// Blocks for a grid-stride loop over n elements with `threads` per block:
// enough to fill the GPU, never more than the work needs.
inline unsigned grid_for(int64_t n, int threads) {
  int64_t blocks = (n + threads - 1) / threads;
  const int64_t cap = static_cast<int64_t>(multiprocessor_count()) * 32;
  if (blocks > cap) blocks = cap;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

}  // namespace graft::cuda
