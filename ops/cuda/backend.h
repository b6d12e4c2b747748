// The CUDA backend's device-neutral face: what ops/ and dist/ call without
// including any CUDA header. Every build declares these; a build without CUDA
// defines them in ops/no_cuda/runtime.cpp, where available() is false and the
// rest throw. The kernels of each op are declared in ops/cuda/<op>.h and are
// only called through GRAFT_ON_CUDA (ops/op_checks.h), so a CPU-only build
// never references them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace graft {
class Tensor;
}

namespace graft::cuda {

// True when this build has CUDA and a usable GPU answers. Any error from the
// driver (no device, no driver, a driver older than the runtime) means false.
bool available();
// Why available() is false ("" when it is true), for skip and error messages.
std::string unavailable_reason();
// Selects the GPU this process uses (before its first allocation); ranks on
// one node pick local_rank % device_count.
void select_device(int index);
int device_count();
std::string device_name();

// Caching allocator (ops/cuda/allocator.cu): blocks freed by tensors go back
// to a per-size cache and are reused; cudaMalloc only when the cache has none.
void* allocate(size_t bytes);
void release(void* pointer, size_t bytes);
struct AllocatorStats {
  size_t in_use_bytes = 0;
  size_t cached_bytes = 0;
  size_t peak_in_use_bytes = 0;
  int64_t device_allocations = 0;  // cudaMalloc calls so far
  int64_t cache_hits = 0;
};
AllocatorStats allocator_stats();
void empty_cache();  // returns every cached block to the driver

// Copies between any two of host and device memory (ordered on the compute
// stream; returns once a host destination holds the data).
void copy_bytes(void* dst, const void* src, size_t bytes);
void zero_bytes(void* dst, size_t bytes);
// Waits for all work queued on the compute stream.
void synchronize();

// Tensor-level kernels used by Tensor itself (ops/cuda/tensor_kernels.cu).
void fill(const Tensor& t, double value);
void cast(const Tensor& src, const Tensor& dst);  // same numel, any dtypes

}  // namespace graft::cuda
