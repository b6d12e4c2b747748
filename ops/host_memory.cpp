#include "ops/host_memory.h"

#include <malloc.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ops/check.h"

namespace graft {

namespace {

constexpr size_t kAlignment = 64;
// Large blocks round to 2 MiB, so the same tensor shape always finds its
// block again and nearly equal shapes share one.
constexpr size_t kLargeUnit = size_t{2} << 20;

size_t rounded_size(size_t bytes) {
  const size_t unit = bytes >= kHostCacheMinBytes ? kLargeUnit : kAlignment;
  const size_t r = (bytes + unit - 1) / unit * unit;
  return r == 0 ? kAlignment : r;
}

struct HostCache {
  std::mutex mutex;
  std::map<size_t, std::vector<void*>> blocks;  // rounded size -> free blocks
  HostCacheStats stats;
};

HostCache& cache() {
  static HostCache* instance = [] {
    // glibc raises its mmap threshold to the size of the last mmapped block
    // freed; the cache now keeps those blocks, so without this the threshold
    // would stay at 128 KiB and every activation above it would be a fresh
    // mmap (measured: 4,973 page faults a step instead of 64). The threshold
    // is set to the most glibc's own adjustment reaches (32 MiB); the trim
    // threshold well above the 64 MiB glibc would pair with it, because a
    // step's activations grow and free far more than that at the heap's top
    // and each trim brought the faults back (11,177 a step at 64 MiB, 12 at
    // 1 GiB; docs/PERFORMANCE.md).
    mallopt(M_MMAP_THRESHOLD, static_cast<int>(kHostCacheMinBytes));
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return new HostCache();  // never destroyed: tensors may outlive statics
  }();
  return *instance;
}

}  // namespace

void* host_allocate(size_t bytes) {
  const size_t size = rounded_size(bytes);
  HostCache& c = cache();  // first use sets the malloc thresholds
  if (size >= kHostCacheMinBytes) {
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.blocks.find(size);
    if (it != c.blocks.end() && !it->second.empty()) {
      void* block = it->second.back();
      it->second.pop_back();
      c.stats.cached_bytes -= size;
      ++c.stats.hits;
      return block;
    }
    ++c.stats.misses;
  }
  void* block = std::aligned_alloc(kAlignment, size);
  if (block == nullptr) throw Error("out of memory allocating " + std::to_string(bytes) + " bytes");
  return block;
}

void host_release(void* block, size_t bytes) {
  if (block == nullptr) return;
  const size_t size = rounded_size(bytes);
  if (size >= kHostCacheMinBytes) {
    HostCache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.stats.cached_bytes + size <= kHostCacheMaxBytes) {
      c.blocks[size].push_back(block);
      c.stats.cached_bytes += size;
      return;
    }
  }
  std::free(block);
}

HostCacheStats host_cache_stats() {
  HostCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.stats;
}

void host_cache_clear() {
  HostCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  for (auto& [size, blocks] : c.blocks)
    for (void* block : blocks)
      std::free(block);
  c.blocks.clear();
  c.stats.cached_bytes = 0;
}

}  // namespace graft
