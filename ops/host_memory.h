// Host (CPU) memory for tensor storage: 64-byte-aligned blocks, with the
// largest ones kept for reuse.
//
// glibc serves any block of 32 MiB or more with a fresh mmap and returns it
// with munmap, so a training step that makes its [tokens, vocab] logits and
// their gradient (64 MiB each at the small scale) takes page faults and has
// the kernel zero every page, each step: 3-4% of a one-thread step in perf,
// more at two threads, where the faults serialise on the address space's lock
// (docs/PERFORMANCE.md). Freed blocks of at least kHostCacheMinBytes wait
// here for a request of the same rounded size, up to kHostCacheMaxBytes in
// all; smaller blocks go straight to malloc, which already reuses them.
#pragma once

#include <cstddef>

namespace graft {

constexpr size_t kHostCacheMinBytes = size_t{32} << 20;
constexpr size_t kHostCacheMaxBytes = size_t{2} << 30;

// Never null: out of memory is an Error naming the size.
void* host_allocate(size_t bytes);
void host_release(void* block, size_t bytes);

struct HostCacheStats {
  size_t cached_bytes = 0;  // freed, kept for reuse
  long long hits = 0, misses = 0;
};
HostCacheStats host_cache_stats();
// Frees every cached block (tests; a caller short of memory).
void host_cache_clear();

}  // namespace graft
