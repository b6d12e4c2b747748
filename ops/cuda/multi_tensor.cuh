// Multi-tensor launches (adamw_multi_step, the global gradient norm, gradient
// clipping): one kernel over a whole list of tensors instead of one launch per
// tensor, so a model with hundreds of parameter tensors costs one launch.
//
// The tensors' elements form one concatenated index space cut into fixed-size
// chunks; no chunk straddles two tensors (each tensor starts a fresh chunk).
// A per-tensor descriptor (pointers, numel, first_chunk and per-op scalars)
// is uploaded once per call; a block handling chunk c finds its tensor by a
// binary search over first_chunk. Because chunks are fixed by the tensors'
// sizes alone, per-chunk results (partial sums) do not depend on the grid.
#pragma once

#include <vector>

#include "ops/cuda/kernel_utils.cuh"
#include "ops/cuda/runtime.h"

namespace graft::cuda {

// Number of chunks of chunk_size elements that numel elements occupy.
inline int64_t chunks_for(int64_t numel, int64_t chunk_size) {
  return (numel + chunk_size - 1) / chunk_size;
}

// The descriptor whose chunks hold `chunk`: the last one with first_chunk <=
// chunk (descriptors are in increasing first_chunk order, none empty).
template <class Descriptor>
__device__ __forceinline__ int descriptor_of_chunk(const Descriptor* descriptors, int count,
                                                   int64_t chunk) {
  int lo = 0, hi = count - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (descriptors[mid].first_chunk <= chunk) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

// Copies the descriptors to a device buffer (a Tensor, so the caching
// allocator recycles it; it may be released as soon as the launch is queued
// because every later user of the block is queued behind it on the stream).
template <class Descriptor>
Tensor upload_descriptors(const std::vector<Descriptor>& descriptors) {
  const size_t bytes = descriptors.size() * sizeof(Descriptor);
  Tensor buffer = Tensor::empty({static_cast<int64_t>((bytes + 7) / 8)}, DType::f64, Device::cuda);
  copy_bytes(buffer.raw_data(), descriptors.data(), bytes);
  return buffer;
}

// Blocks for a chunk loop: one per chunk up to a few waves of the GPU.
inline unsigned blocks_for_chunks(int64_t chunks) {
  const int64_t cap = static_cast<int64_t>(multiprocessor_count()) * 8;
  return static_cast<unsigned>(chunks < 1 ? 1 : (chunks < cap ? chunks : cap));
}

}  // namespace graft::cuda
