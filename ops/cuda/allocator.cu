// Caching device allocator: plain cudaMalloc underneath, and freed blocks
// kept in a cache keyed by their rounded size. Training allocates the same
// shapes every step, so after the first step nearly every request is a hit and
// cudaMalloc (which synchronises the device) is off the hot path.
//
// Reuse without events is safe because every kernel runs on the one compute
// stream: a block released while kernels that use it are still queued goes to
// a new owner whose kernels queue behind them.
#include <map>
#include <mutex>
#include <vector>

#include "ops/cuda/runtime.h"

namespace graft::cuda {

namespace {

constexpr size_t kSmall = size_t{1} << 20;

// Small requests round to 512 B, large ones to 2 MiB: few distinct sizes, at
// most a few percent of waste on the tensors that matter.
size_t round_size(size_t bytes) {
  if (bytes == 0) bytes = 1;
  const size_t unit = bytes < kSmall ? 512 : (size_t{2} << 20);
  return (bytes + unit - 1) / unit * unit;
}

struct Allocator {
  std::mutex mutex;
  std::map<size_t, std::vector<void*>> cache;  // rounded size -> free blocks
  AllocatorStats stats;

  void free_cache_locked() {
    for (auto& [size, blocks] : cache) {
      for (void* block : blocks) {
        GRAFT_CUDA_CHECK(cudaFree(block));
        stats.cached_bytes -= size;
      }
    }
    cache.clear();
  }
};

Allocator& allocator() {
  static Allocator* instance = new Allocator();  // never destroyed: tensors may outlive statics
  return *instance;
}

}  // namespace

void* allocate(size_t bytes) {
  GRAFT_CHECK(available(), "allocating device memory: " << unavailable_reason());
  const size_t size = round_size(bytes);
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  auto it = a.cache.find(size);
  void* block = nullptr;
  if (it != a.cache.end() && !it->second.empty()) {
    block = it->second.back();
    it->second.pop_back();
    a.stats.cached_bytes -= size;
    ++a.stats.cache_hits;
  } else {
    cudaError_t status = cudaMalloc(&block, size);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      a.free_cache_locked();  // give the cache back and try once more
      status = cudaMalloc(&block, size);
    }
    if (status != cudaSuccess) {
      cudaGetLastError();
      throw Error("out of GPU memory allocating " + std::to_string(bytes) + " bytes (" +
                  std::to_string(a.stats.in_use_bytes >> 20) +
                  " MiB in use by tensors): " + cudaGetErrorString(status));
    }
    ++a.stats.device_allocations;
  }
  a.stats.in_use_bytes += size;
  if (a.stats.in_use_bytes > a.stats.peak_in_use_bytes)
    a.stats.peak_in_use_bytes = a.stats.in_use_bytes;
  return block;
}

void release(void* pointer, size_t bytes) {
  if (pointer == nullptr) return;
  const size_t size = round_size(bytes);
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  a.cache[size].push_back(pointer);
  a.stats.in_use_bytes -= size;
  a.stats.cached_bytes += size;
}

AllocatorStats allocator_stats() {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  return a.stats;
}

void empty_cache() {
  if (!available()) return;
  synchronize();
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  a.free_cache_locked();
}

}  // namespace graft::cuda
