// Tensor-core attention for bf16 with head_dim 64 or 128 (sm_80+): the same
// flash-style algorithm as attention_general.cu, with the four products on
// mma.sync m16n8k16 (bf16 inputs, f32 accumulators).
//
// Each warp owns 16 rows of its block's 64 and keeps its accumulators in
// registers, so softmax statistics need only the 4 lanes that share a row
// (shuffles, no shared memory). The accumulator layout of one product is the
// A-operand layout of the next (the probabilities P or dS of a 16 x 16 patch
// become A fragments in registers, rounded to bf16 once), which is why the
// dK/dV kernel computes the transposed scores S^T = K Q^T: its warps then own
// key rows and never reduce across warps. dQ has its own kernel (owning query
// rows), so there are no atomics and every sum has a fixed order.
//
// Shared-memory tiles are row-major with rows padded by 8 elements (16 bytes):
// the fragment loads of 8 consecutive rows then hit 8 different 4-bank
// groups. Operands needed "k-major" (V, dO, Q, K as B of P V, P^T dO, dS^T Q,
// dS K) come through ldmatrix.trans. Softmax runs in base 2 (exp2f) with the
// scale folded into log2(e).
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

template <int DH>
constexpr size_t forward_shared_bytes() {
  return size_t{kRows + 4 * kKeys} * (DH + 8) * sizeof(bf16);
}

template <int DH>
__global__ void __launch_bounds__(kThreads)
    tc_forward_kernel(Geometry g, const bf16* q, const bf16* k, const bf16* v, bf16* out,
                      float* lse) {
  constexpr int S = DH + 8;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  // Q, then K and V twice: the next key tile loads while this one is used.
  bf16* q_s = reinterpret_cast<bf16*>(smem_raw);
  // Buffers by arithmetic, not pointer arrays (which would live in local memory).
  auto k_buf = [&](int slot) { return q_s + (kRows + slot * kKeys) * S; };
  auto v_buf = [&](int slot) { return q_s + (kRows + (2 + slot) * kKeys) * S; };
  // Causal blocks with the most keys start first.
  const int tile = g.causal ? gridDim.x - 1 - blockIdx.x : blockIdx.x;
  const int i0 = tile * kRows, h = blockIdx.y, b = blockIdx.z;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int row0 = warp * 16;
  const int rows[2] = {i0 + row0 + (lane >> 2), i0 + row0 + (lane >> 2) + 8};
  const float scale2 = g.scale * kLog2e;

  const int key_end = key_end_for(g, min(i0 + kRows, g.q_len) - 1);
  copy_rows_async<DH, kRows>(q_s, q, g, b, i0, g.q_len, h);
  if (key_end > 0) {
    copy_rows_async<DH, kKeys>(k_buf(0), k, g, b, 0, g.k_len, h);
    copy_rows_async<DH, kKeys>(v_buf(0), v, g, b, 0, g.k_len, h);
  }
  commit_async_copies();
  wait_async_copies();
  __syncthreads();
  uint32_t qa[DH / 16][4];
#pragma unroll
  for (int kc = 0; kc < DH / 16; ++kc)
    load_a<S>(qa[kc], q_s, row0, kc * 16, lane);

  float o[DH / 8][4];
#pragma unroll
  for (int dt = 0; dt < DH / 8; ++dt)
    o[dt][0] = o[dt][1] = o[dt][2] = o[dt][3] = 0.0f;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
  for (int j0 = 0, step = 0; j0 < key_end; j0 += kKeys, ++step) {
    // This tile has landed and every warp is done with the previous one, whose
    // buffers now take the next tile.
    wait_async_copies();
    __syncthreads();
    if (j0 + kKeys < key_end) {
      copy_rows_async<DH, kKeys>(k_buf((step + 1) & 1), k, g, b, j0 + kKeys, g.k_len, h);
      copy_rows_async<DH, kKeys>(v_buf((step + 1) & 1), v, g, b, j0 + kKeys, g.k_len, h);
    }
    commit_async_copies();
    const bf16* k_s = k_buf(step & 1);
    const bf16* v_s = v_buf(step & 1);
    float s[kKeys / 8][4];
#pragma unroll
    for (int nt = 0; nt < kKeys / 8; ++nt) {
      s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
#pragma unroll
      for (int kc = 0; kc < DH / 16; ++kc) {
        uint32_t b0, b1;
        load_b<S>(b0, b1, k_s, nt * 8, kc * 16, lane);
        mma(s[nt], qa[kc], b0, b1);
      }
    }
    const bool interior = g.mask == nullptr && j0 + kKeys <= g.k_len && i0 + kRows <= g.q_len &&
                          (!g.causal || j0 + kKeys - 1 <= i0 + g.k_len - g.q_len);
    float row_max[2] = {m[0], m[1]};
#pragma unroll
    for (int nt = 0; nt < kKeys / 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int j = j0 + nt * 8 + 2 * (lane & 3) + (e & 1);
        s[nt][e] = interior || key_visible(g, b, rows[e >> 1], j) ? s[nt][e] * scale2 : -INFINITY;
        row_max[e >> 1] = fmaxf(row_max[e >> 1], s[nt][e]);
      }
    }
    float m_use[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      row_max[r] = fmaxf(row_max[r], __shfl_xor_sync(0xffffffffu, row_max[r], 1));
      row_max[r] = fmaxf(row_max[r], __shfl_xor_sync(0xffffffffu, row_max[r], 2));
      // A row with no visible key so far keeps m = -inf and p = 0.
      m_use[r] = row_max[r] == -INFINITY ? 0.0f : row_max[r];
      const float alpha = exp2f(m[r] - m_use[r]);
      m[r] = row_max[r];
      l[r] *= alpha;
#pragma unroll
      for (int dt = 0; dt < DH / 8; ++dt) {
        o[dt][2 * r] *= alpha;
        o[dt][2 * r + 1] *= alpha;
      }
    }
#pragma unroll
    for (int nt = 0; nt < kKeys / 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        s[nt][e] = exp2f(s[nt][e] - m_use[e >> 1]);
        l[e >> 1] += s[nt][e];
      }
    }
#pragma unroll
    for (int kc = 0; kc < kKeys / 16; ++kc) {
      uint32_t pa[4];
      accumulators_to_a(pa, s[2 * kc], s[2 * kc + 1]);
#pragma unroll
      for (int dp = 0; dp < DH / 16; ++dp) {
        uint32_t vb[4];
        load_b_trans<S>(vb, v_s, kc * 16, dp * 16, lane);
        mma(o[2 * dp], pa, vb[0], vb[1]);
        mma(o[2 * dp + 1], pa, vb[2], vb[3]);
      }
    }
  }
  float inv[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
    inv[r] = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
#pragma unroll
    for (int dt = 0; dt < DH / 8; ++dt) {
      o[dt][2 * r] *= inv[r];
      o[dt][2 * r + 1] *= inv[r];
    }
    if (lse != nullptr && (lane & 3) == 0 && rows[r] < g.q_len) {
      lse[g.stat_index(b, h, rows[r])] = l[r] > 0.0f ? (m[r] + log2f(l[r])) * kLn2 : INFINITY;
    }
  }
  store_rows<DH>(out, o, 1.0f, rows, g.q_len, g, b, h, false, lane);
}

template <int DH>
constexpr size_t dq_shared_bytes() {
  return size_t{2 * kRows + 4 * kKeys} * (DH + 8) * sizeof(bf16);
}

// dQ = scale * dS K for 64 query rows, streaming key tiles.
template <int DH>
__global__ void __launch_bounds__(kThreads)
    tc_dq_kernel(Geometry g, const bf16* q, const bf16* k, const bf16* v, const bf16* dout,
                 const float* lse, const float* delta, bf16* dq, bool accumulate) {
  constexpr int S = DH + 8;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  bf16* q_s = reinterpret_cast<bf16*>(smem_raw);
  bf16* do_s = q_s + kRows * S;
  auto k_buf = [&](int slot) { return do_s + (kRows + slot * kKeys) * S; };
  auto v_buf = [&](int slot) { return do_s + (kRows + (2 + slot) * kKeys) * S; };
  const int tile = g.causal ? gridDim.x - 1 - blockIdx.x : blockIdx.x;
  const int i0 = tile * kRows, h = blockIdx.y, b = blockIdx.z;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int row0 = warp * 16;
  const int rows[2] = {i0 + row0 + (lane >> 2), i0 + row0 + (lane >> 2) + 8};
  const float scale2 = g.scale * kLog2e;
  float lse2[2], row_delta[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const bool real = rows[r] < g.q_len;
    lse2[r] = real ? lse[g.stat_index(b, h, rows[r])] * kLog2e : INFINITY;
    row_delta[r] = real ? delta[g.stat_index(b, h, rows[r])] : 0.0f;
  }

  const int key_end = key_end_for(g, min(i0 + kRows, g.q_len) - 1);
  copy_rows_async<DH, kRows>(q_s, q, g, b, i0, g.q_len, h);
  copy_rows_async<DH, kRows>(do_s, dout, g, b, i0, g.q_len, h);
  if (key_end > 0) {
    copy_rows_async<DH, kKeys>(k_buf(0), k, g, b, 0, g.k_len, h);
    copy_rows_async<DH, kKeys>(v_buf(0), v, g, b, 0, g.k_len, h);
  }
  commit_async_copies();
  float acc[DH / 8][4];
#pragma unroll
  for (int dt = 0; dt < DH / 8; ++dt)
    acc[dt][0] = acc[dt][1] = acc[dt][2] = acc[dt][3] = 0.0f;
  for (int j0 = 0, step = 0; j0 < key_end; j0 += kKeys, ++step) {
    wait_async_copies();
    __syncthreads();
    if (j0 + kKeys < key_end) {
      copy_rows_async<DH, kKeys>(k_buf((step + 1) & 1), k, g, b, j0 + kKeys, g.k_len, h);
      copy_rows_async<DH, kKeys>(v_buf((step + 1) & 1), v, g, b, j0 + kKeys, g.k_len, h);
    }
    commit_async_copies();
    const bf16* k_s = k_buf(step & 1);
    const bf16* v_s = v_buf(step & 1);
    float s[kKeys / 8][4], dp[kKeys / 8][4];
#pragma unroll
    for (int nt = 0; nt < kKeys / 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e)
        s[nt][e] = dp[nt][e] = 0.0f;
    }
#pragma unroll
    for (int kc = 0; kc < DH / 16; ++kc) {
      uint32_t qa[4], da[4];
      load_a<S>(qa, q_s, row0, kc * 16, lane);
      load_a<S>(da, do_s, row0, kc * 16, lane);
#pragma unroll
      for (int nt = 0; nt < kKeys / 8; ++nt) {
        uint32_t b0, b1;
        load_b<S>(b0, b1, k_s, nt * 8, kc * 16, lane);
        mma(s[nt], qa, b0, b1);
        load_b<S>(b0, b1, v_s, nt * 8, kc * 16, lane);
        mma(dp[nt], da, b0, b1);
      }
    }
    const bool interior = g.mask == nullptr && j0 + kKeys <= g.k_len && i0 + kRows <= g.q_len &&
                          (!g.causal || j0 + kKeys - 1 <= i0 + g.k_len - g.q_len);
#pragma unroll
    for (int nt = 0; nt < kKeys / 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int r = e >> 1, j = j0 + nt * 8 + 2 * (lane & 3) + (e & 1);
        const float p =
            interior || key_visible(g, b, rows[r], j) ? exp2f(s[nt][e] * scale2 - lse2[r]) : 0.0f;
        s[nt][e] = p * (dp[nt][e] - row_delta[r]);  // dS
      }
    }
#pragma unroll
    for (int kc = 0; kc < kKeys / 16; ++kc) {
      uint32_t da[4];
      accumulators_to_a(da, s[2 * kc], s[2 * kc + 1]);
#pragma unroll
      for (int dp2 = 0; dp2 < DH / 16; ++dp2) {
        uint32_t kb[4];
        load_b_trans<S>(kb, k_s, kc * 16, dp2 * 16, lane);
        mma(acc[2 * dp2], da, kb[0], kb[1]);
        mma(acc[2 * dp2 + 1], da, kb[2], kb[3]);
      }
    }
  }
  wait_async_copies();  // none in flight at exit, even when no key tile ran
  store_rows<DH>(dq, acc, g.scale, rows, g.q_len, g, b, h, accumulate, lane);
}

template <int DH, int BQ>
constexpr size_t dkv_shared_bytes() {
  return size_t{2} * (kRows + 2 * BQ) * (DH + 8) * sizeof(bf16) + 4 * BQ * sizeof(float);
}

// dK = scale * dS^T Q and dV = P^T dO for 64 key rows, streaming BQ query rows
// at a time. dK is stored before dV (a barrier between) so that aliased
// slots add up.
template <int DH, int BQ>
__global__ void __launch_bounds__(kThreads)
    tc_dkv_kernel(Geometry g, const bf16* q, const bf16* k, const bf16* v, const bf16* dout,
                  const float* lse, const float* delta, bf16* dk, bool dk_accumulate, bf16* dv,
                  bool dv_accumulate) {
  constexpr int S = DH + 8;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  bf16* k_s = reinterpret_cast<bf16*>(smem_raw);
  bf16* v_s = k_s + kRows * S;
  // Q, dO and their row statistics twice: the next query tile loads while
  // this one is used.
  // Buffers by arithmetic, not pointer arrays (which would live in local memory).
  auto q_buf = [&](int slot) { return v_s + (kRows + slot * BQ) * S; };
  auto do_buf = [&](int slot) { return v_s + (kRows + (2 + slot) * BQ) * S; };
  float* stats = reinterpret_cast<float*>(v_s + (kRows + 4 * BQ) * S);
  auto lse2_buf = [&](int slot) { return stats + slot * BQ; };
  auto delta_buf = [&](int slot) { return stats + (2 + slot) * BQ; };
  const int j0 = blockIdx.x * kRows, h = blockIdx.y, b = blockIdx.z;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int row0 = warp * 16;
  const int keys[2] = {j0 + row0 + (lane >> 2), j0 + row0 + (lane >> 2) + 8};
  const float scale2 = g.scale * kLog2e;

  // Starts loading query tile i0 into buffer `slot`.
  auto load_queries = [&](int i0, int slot) {
    copy_rows_async<DH, BQ>(q_buf(slot), q, g, b, i0, g.q_len, h);
    copy_rows_async<DH, BQ>(do_buf(slot), dout, g, b, i0, g.q_len, h);
    if (threadIdx.x < BQ) {
      const int i = i0 + threadIdx.x;
      lse2_buf(slot)[threadIdx.x] = i < g.q_len ? lse[g.stat_index(b, h, i)] * kLog2e : INFINITY;
      delta_buf(slot)[threadIdx.x] = i < g.q_len ? delta[g.stat_index(b, h, i)] : 0.0f;
    }
  };
  const int first = first_query_for(g, j0) / BQ * BQ;
  copy_rows_async<DH, kRows>(k_s, k, g, b, j0, g.k_len, h);
  copy_rows_async<DH, kRows>(v_s, v, g, b, j0, g.k_len, h);
  if (first < g.q_len) load_queries(first, 0);
  commit_async_copies();
  float dk_acc[DH / 8][4], dv_acc[DH / 8][4];
#pragma unroll
  for (int dt = 0; dt < DH / 8; ++dt) {
#pragma unroll
    for (int e = 0; e < 4; ++e)
      dk_acc[dt][e] = dv_acc[dt][e] = 0.0f;
  }
  for (int i0 = first, step = 0; i0 < g.q_len; i0 += BQ, ++step) {
    wait_async_copies();
    __syncthreads();
    if (i0 + BQ < g.q_len) load_queries(i0 + BQ, (step + 1) & 1);
    commit_async_copies();
    const bf16* q_s = q_buf(step & 1);
    const bf16* do_s = do_buf(step & 1);
    const float* lse2_s = lse2_buf(step & 1);
    const float* delta_s = delta_buf(step & 1);
    // S^T = K Q^T and dP^T = V dO^T for the warp's 16 keys by BQ queries.
    float st[BQ / 8][4], dpt[BQ / 8][4];
#pragma unroll
    for (int nt = 0; nt < BQ / 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e)
        st[nt][e] = dpt[nt][e] = 0.0f;
    }
#pragma unroll
    for (int kc = 0; kc < DH / 16; ++kc) {
      uint32_t ka[4], va[4];
      load_a<S>(ka, k_s, row0, kc * 16, lane);
      load_a<S>(va, v_s, row0, kc * 16, lane);
#pragma unroll
      for (int nt = 0; nt < BQ / 8; ++nt) {
        uint32_t b0, b1;
        load_b<S>(b0, b1, q_s, nt * 8, kc * 16, lane);
        mma(st[nt], ka, b0, b1);
        load_b<S>(b0, b1, do_s, nt * 8, kc * 16, lane);
        mma(dpt[nt], va, b0, b1);
      }
    }
    const bool interior = g.mask == nullptr && j0 + kRows <= g.k_len && i0 + BQ <= g.q_len &&
                          (!g.causal || j0 + kRows - 1 <= i0 + g.k_len - g.q_len);
#pragma unroll
    for (int nt = 0; nt < BQ / 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int col = nt * 8 + 2 * (lane & 3) + (e & 1);
        const float p = interior || key_visible(g, b, i0 + col, keys[e >> 1])
                            ? exp2f(st[nt][e] * scale2 - lse2_s[col])
                            : 0.0f;
        st[nt][e] = p;
        dpt[nt][e] = p * (dpt[nt][e] - delta_s[col]);  // dS^T
      }
    }
#pragma unroll
    for (int kc = 0; kc < BQ / 16; ++kc) {
      uint32_t pa[4], dsa[4];
      accumulators_to_a(pa, st[2 * kc], st[2 * kc + 1]);
      accumulators_to_a(dsa, dpt[2 * kc], dpt[2 * kc + 1]);
#pragma unroll
      for (int dp = 0; dp < DH / 16; ++dp) {
        uint32_t ob[4], qb[4];
        load_b_trans<S>(ob, do_s, kc * 16, dp * 16, lane);
        mma(dv_acc[2 * dp], pa, ob[0], ob[1]);
        mma(dv_acc[2 * dp + 1], pa, ob[2], ob[3]);
        load_b_trans<S>(qb, q_s, kc * 16, dp * 16, lane);
        mma(dk_acc[2 * dp], dsa, qb[0], qb[1]);
        mma(dk_acc[2 * dp + 1], dsa, qb[2], qb[3]);
      }
    }
  }
  if (dk != nullptr)
    store_rows<DH>(dk, dk_acc, g.scale, keys, g.k_len, g, b, h, dk_accumulate, lane);
  __syncthreads();  // dK's global writes are visible to the block before dV adds to them
  if (dv != nullptr) store_rows<DH>(dv, dv_acc, 1.0f, keys, g.k_len, g, b, h, dv_accumulate, lane);
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

template <int DH>
void forward_for(const Geometry& g, const void* q, const void* k, const void* v, void* out,
                 float* lse) {
  constexpr size_t bytes = forward_shared_bytes<DH>();
  allow_shared(tc_forward_kernel<DH>, bytes);
  tc_forward_kernel<DH><<<grid_of(g, g.q_len), kThreads, bytes, stream()>>>(
      g, static_cast<const bf16*>(q), static_cast<const bf16*>(k), static_cast<const bf16*>(v),
      static_cast<bf16*>(out), lse);
  GRAFT_CUDA_CHECK_LAUNCH();
}

template <int DH, int BQ>
void backward_for(const Geometry& g, const void* q, const void* k, const void* v, const void* dout,
                  const float* lse, const float* delta, GradOut dq, GradOut dk, GradOut dv) {
  const bf16* qb = static_cast<const bf16*>(q);
  const bf16* kb = static_cast<const bf16*>(k);
  const bf16* vb = static_cast<const bf16*>(v);
  const bf16* dob = static_cast<const bf16*>(dout);
  if (dq.grad != nullptr) {
    constexpr size_t bytes = dq_shared_bytes<DH>();
    allow_shared(tc_dq_kernel<DH>, bytes);
    tc_dq_kernel<DH><<<grid_of(g, g.q_len), kThreads, bytes, stream()>>>(
        g, qb, kb, vb, dob, lse, delta, static_cast<bf16*>(dq.grad), dq.accumulate);
    GRAFT_CUDA_CHECK_LAUNCH();
  }
  if (dk.grad != nullptr || dv.grad != nullptr) {
    constexpr size_t bytes = dkv_shared_bytes<DH, BQ>();
    allow_shared(tc_dkv_kernel<DH, BQ>, bytes);
    tc_dkv_kernel<DH, BQ><<<grid_of(g, g.k_len), kThreads, bytes, stream()>>>(
        g, qb, kb, vb, dob, lse, delta, static_cast<bf16*>(dk.grad), dk.accumulate,
        static_cast<bf16*>(dv.grad), dv.accumulate);
    GRAFT_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace

void tensor_core_forward(const Geometry& g, const void* q, const void* k, const void* v, void* out,
                         float* lse) {
  if (g.head_dim == 64)
    forward_for<64>(g, q, k, v, out, lse);
  else
    forward_for<128>(g, q, k, v, out, lse);
}

void tensor_core_backward(const Geometry& g, const void* q, const void* k, const void* v,
                          const void* dout, const float* lse, const float* delta, GradOut dq,
                          GradOut dk, GradOut dv) {
  // head_dim 128 streams 32 query rows at a time to keep dK, dV and the
  // transposed scores in registers.
  if (g.head_dim == 64)
    backward_for<64, 64>(g, q, k, v, dout, lse, delta, dq, dk, dv);
  else
    backward_for<128, 32>(g, q, k, v, dout, lse, delta, dq, dk, dv);
}

}  // namespace graft::cuda::attention_detail
