// Shared pieces of the tensor-core attention kernels (attention_tensor_core_
// forward.cu and _backward.cu): mma.sync fragment loads, async tile copies,
// accumulator stores and launch geometry. See the forward file for the design.
#pragma once

#include <cuda_bf16.h>

#include "ops/cuda/attention_common.cuh"
#include "ops/cuda/kernel_utils.cuh"
#include "ops/cuda/runtime.h"

namespace graft::cuda::attention_detail {

namespace {

using bf16 = __nv_bfloat16;

constexpr int kThreads = 128;  // 4 warps x 16 rows
constexpr int kRows = 64;      // query rows (forward, dQ) or key rows (dK/dV) per block
constexpr int kKeys = 64;      // keys per streamed tile (forward, dQ)
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
}

__device__ __forceinline__ uint32_t load_u32(const bf16* p) {
  return *reinterpret_cast<const uint32_t*>(p);
}

// c += a b for a 16x16 (row) by 16x8 (col) bf16 product.
__device__ __forceinline__ void mma(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
}

// A fragment of the 16x16 patch at (row0, col0) of a row-major tile.
template <int STRIDE>
__device__ __forceinline__ void load_a(uint32_t a[4], const bf16* tile, int row0, int col0,
                                       int lane) {
  const bf16* p = tile + (row0 + (lane >> 2)) * STRIDE + col0 + 2 * (lane & 3);
  a[0] = load_u32(p);
  a[1] = load_u32(p + 8 * STRIDE);
  a[2] = load_u32(p + 8);
  a[3] = load_u32(p + 8 * STRIDE + 8);
}

// B fragment (16 x 8) with B[k][n] = tile[n0 + n][k0 + k]: the tile holds B
// transposed, as K holds the columns of K^T.
template <int STRIDE>
__device__ __forceinline__ void load_b(uint32_t& b0, uint32_t& b1, const bf16* tile, int n0, int k0,
                                       int lane) {
  const bf16* p = tile + (n0 + (lane >> 2)) * STRIDE + k0 + 2 * (lane & 3);
  b0 = load_u32(p);
  b1 = load_u32(p + 8);
}

// B fragments of two 16 x 8 blocks with B[k][n] = tile[k0 + k][n0 + n]
// (b[0], b[1]: columns n0..n0+7; b[2], b[3]: n0+8..n0+15).
template <int STRIDE>
__device__ __forceinline__ void load_b_trans(uint32_t b[4], const bf16* tile, int k0, int n0,
                                             int lane) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const bf16* p = tile + (k0 + (lane & 7) + ((lane >> 3) & 1) * 8) * STRIDE + n0 + (lane >> 4) * 8;
  const unsigned address = static_cast<unsigned>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(b[0]), "=r"(b[1]), "=r"(b[2]), "=r"(b[3])
               : "r"(address));
#endif
}

// Starts copying rows [row0, row0 + ROWS) of one head into a padded tile,
// 16 bytes per cp.async; rows past `rows` become zeros (source size 0). The
// copies land by the matching wait_async_copies().
template <int DH, int ROWS>
__device__ __forceinline__ void copy_rows_async(bf16* tile, const bf16* src, const Geometry& g,
                                                int b, int row0, int rows, int h) {
  constexpr int kVectors = DH / 8;
  for (int x = threadIdx.x; x < ROWS * kVectors; x += kThreads) {
    const int r = x / kVectors, col = (x % kVectors) * 8;
    const int t = row0 + r;
    const bf16* from = t < rows ? src + g.row_offset(b, t, rows, h) + col : src;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    const unsigned to = static_cast<unsigned>(__cvta_generic_to_shared(tile + r * (DH + 8) + col));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(to), "l"(from),
                 "r"(t < rows ? 16 : 0));
#endif
  }
}

__device__ __forceinline__ void commit_async_copies() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::);
#endif
}

// Waits for this thread's copies; a __syncthreads() after it publishes them.
__device__ __forceinline__ void wait_async_copies() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group 0;\n" ::);
#endif
}

// A fragment of P (or dS) for keys 16 kc .. 16 kc + 15 from the accumulators
// of the two 8-key blocks 2 kc and 2 kc + 1.
__device__ __forceinline__ void accumulators_to_a(uint32_t a[4], const float lo[4],
                                                  const float hi[4]) {
  a[0] = pack_bf16(lo[0], lo[1]);
  a[1] = pack_bf16(lo[2], lo[3]);
  a[2] = pack_bf16(hi[0], hi[1]);
  a[3] = pack_bf16(hi[2], hi[3]);
}

// Stores a warp's 16 x DH accumulators (times factor) as rows row0, row0 + 8
// (rows[0], rows[1] per lane) of one head, adding to what is there when
// accumulate.
template <int DH>
__device__ __forceinline__ void store_rows(bf16* dst, const float acc[DH / 8][4], float factor,
                                           const int rows[2], int rows_total, const Geometry& g,
                                           int b, int h, bool accumulate, int lane) {
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    if (rows[r] >= rows_total) continue;
    bf16* row = dst + g.row_offset(b, rows[r], rows_total, h) + 2 * (lane & 3);
#pragma unroll
    for (int dt = 0; dt < DH / 8; ++dt) {
      float x = acc[dt][2 * r] * factor, y = acc[dt][2 * r + 1] * factor;
      __nv_bfloat162* p = reinterpret_cast<__nv_bfloat162*>(row + dt * 8);
      if (accumulate) {
        const float2 old = __bfloat1622float2(*p);
        x += old.x;
        y += old.y;
      }
      *p = __floats2bfloat162_rn(x, y);
    }
  }
}

template <class Kernel>
void allow_shared(Kernel kernel, size_t bytes) {
  GRAFT_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(bytes)));
}

dim3 grid_of(const Geometry& g, int rows) {
  return dim3(static_cast<unsigned>((rows + kRows - 1) / kRows), static_cast<unsigned>(g.heads),
              static_cast<unsigned>(g.batch));
}

}  // namespace
}  // namespace graft::cuda::attention_detail
