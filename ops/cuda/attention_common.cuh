// What the attention kernels share: the call's geometry as kernel arguments,
// the visibility rule (the CPU's: causal rows aligned at the sequence ends,
// padding keys invisible, positions past the end invisible), and the host
// entry points of the two kernel families (attention_general.cu,
// attention_tensor_core.cu) that ops/cuda/attention.cu dispatches between.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace graft::cuda::attention_detail {

struct Geometry {
  int batch, q_len, k_len, heads, head_dim;
  float scale;
  bool causal;
  const int32_t* mask;  // [B, Tk], nonzero = real key; null = no padding
  __host__ __device__ int64_t width() const { return int64_t{heads} * head_dim; }
  // Element offset of (batch b, row t, head h, column 0) in a [B, T, H*Dh]
  // tensor with T rows per batch.
  __host__ __device__ int64_t row_offset(int b, int t, int rows, int h) const {
    return (int64_t{b} * rows + t) * width() + int64_t{h} * head_dim;
  }
  __host__ __device__ int64_t stat_index(int b, int h, int i) const {
    return (int64_t{b} * heads + h) * q_len + i;
  }
};

// Query i sees key j when both exist, j <= i + (Tk - Tq) under causal, and
// key j is real.
__device__ __forceinline__ bool key_visible(const Geometry& g, int b, int i, int j) {
  if (i >= g.q_len || j >= g.k_len) return false;
  if (g.causal && j > i + (g.k_len - g.q_len)) return false;
  return g.mask == nullptr || g.mask[int64_t{b} * g.k_len + j] != 0;
}

// One past the last key any query row <= last_row may see.
__host__ __device__ inline int key_end_for(const Geometry& g, int last_row) {
  if (!g.causal) return g.k_len;
  const int end = last_row + g.k_len - g.q_len + 1;
  return end < 0 ? 0 : (end > g.k_len ? g.k_len : end);
}

// The first query row that may see key j.
__host__ __device__ inline int first_query_for(const Geometry& g, int j) {
  if (!g.causal) return 0;
  const int first = j - (g.k_len - g.q_len);
  return first < 0 ? 0 : first;
}

// Gradient destinations: accumulate adds into *grad, else overwrites it.
struct GradOut {
  void* grad = nullptr;
  bool accumulate = false;
};

// The general kernels: any head_dim, f32 or bf16 (is_bf16), CUDA cores.
void general_forward(const Geometry& g, bool is_bf16, const void* q, const void* k, const void* v,
                     void* out, float* lse);
void general_backward(const Geometry& g, bool is_bf16, const void* q, const void* k, const void* v,
                      const void* dout, const float* lse, const float* delta, GradOut dq,
                      GradOut dk, GradOut dv);

// The tensor-core kernels: bf16, head_dim 64 or 128, sm_80+, 16-byte aligned
// rows.
void tensor_core_forward(const Geometry& g, const void* q, const void* k, const void* v, void* out,
                         float* lse);
void tensor_core_backward(const Geometry& g, const void* q, const void* k, const void* v,
                          const void* dout, const float* lse, const float* delta, GradOut dq,
                          GradOut dk, GradOut dv);

// Shared memory a kernel may opt in to on the current device.
int max_dynamic_shared_bytes();

}  // namespace graft::cuda::attention_detail
