// GPU time of the work queued on graft's compute stream between start() and
// stop_seconds(), from a pair of CUDA events: what every bench/cuda program
// reports as manual time. CUDA calls are checked (GRAFT_CUDA_CHECK).
#pragma once

#include <cuda_runtime_api.h>

#include "ops/cuda/runtime.h"

namespace graft::bench {

class EventTimer {
 public:
  EventTimer() {
    GRAFT_CUDA_CHECK(cudaEventCreate(&start_));
    GRAFT_CUDA_CHECK(cudaEventCreate(&stop_));
  }
  ~EventTimer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;

  void start() { GRAFT_CUDA_CHECK(cudaEventRecord(start_, cuda::stream())); }
  // Waits for the stop event and returns the seconds between the two.
  double stop_seconds() {
    GRAFT_CUDA_CHECK(cudaEventRecord(stop_, cuda::stream()));
    GRAFT_CUDA_CHECK(cudaEventSynchronize(stop_));
    float ms = 0;
    GRAFT_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
    return ms * 1e-3;
  }

 private:
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

}  // namespace graft::bench
