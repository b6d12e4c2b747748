// ops/host_memory.h: large blocks come back from the cache, small ones and
// blocks past the cap go to malloc.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "ops/host_memory.h"
#include "ops/tensor.h"

namespace graft {
namespace {

TEST(HostMemory, LargeBlockIsReusedForTheSameRoundedSize) {
  host_cache_clear();
  const size_t bytes = kHostCacheMinBytes + 12345;
  void* first = host_allocate(bytes);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % 64, 0u);
  host_release(first, bytes);
  const HostCacheStats kept = host_cache_stats();
  EXPECT_GE(kept.cached_bytes, bytes);
  // A request that rounds to the same 2 MiB multiple gets the same block.
  void* second = host_allocate(bytes + 1000);
  EXPECT_EQ(second, first);
  EXPECT_EQ(host_cache_stats().hits, kept.hits + 1);
  EXPECT_EQ(host_cache_stats().cached_bytes, 0u);
  // A different size does not.
  void* third = host_allocate(bytes + (size_t{4} << 20));
  EXPECT_NE(third, first);
  host_release(second, bytes);
  host_release(third, bytes + (size_t{4} << 20));
  host_cache_clear();
  EXPECT_EQ(host_cache_stats().cached_bytes, 0u);
}

TEST(HostMemory, SmallBlocksAreNotCached) {
  host_cache_clear();
  const HostCacheStats before = host_cache_stats();
  void* block = host_allocate(4096);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % 64, 0u);
  host_release(block, 4096);
  EXPECT_EQ(host_cache_stats().cached_bytes, 0u);
  EXPECT_EQ(host_cache_stats().misses, before.misses);  // never looked up
}

TEST(HostMemory, CacheStaysUnderItsCap) {
  host_cache_clear();
  const size_t bytes = size_t{512} << 20;
  std::vector<void*> blocks;
  for (size_t i = 0; i * bytes <= kHostCacheMaxBytes; ++i)
    blocks.push_back(host_allocate(bytes));  // untouched: no pages are mapped in
  for (void* b : blocks)
    host_release(b, bytes);
  EXPECT_LE(host_cache_stats().cached_bytes, kHostCacheMaxBytes);
  EXPECT_EQ(host_cache_stats().cached_bytes, kHostCacheMaxBytes / bytes * bytes);
  host_cache_clear();
}

TEST(HostMemory, TensorsOfOneShapeShareABlockAcrossSteps) {
  host_cache_clear();
  const Shape logits{2048, 8192};  // 64 MiB, the small scale's logits
  const void* first = nullptr;
  {
    Tensor t = Tensor::empty(logits);
    first = t.raw_data();
  }
  Tensor again = Tensor::zeros(logits);
  EXPECT_EQ(again.raw_data(), first);
  // Reuse hands back old contents; zeros() still means zeros.
  const float* v = again.data<float>();
  EXPECT_EQ(v[0], 0.0f);
  EXPECT_EQ(v[again.numel() - 1], 0.0f);
}

}  // namespace
}  // namespace graft
