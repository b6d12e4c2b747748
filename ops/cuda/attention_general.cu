// General attention kernels: any head_dim, f32 or bf16 storage, float math on
// CUDA cores. One block owns a tile of query rows (forward, dQ) or of key rows
// (dK/dV) of one (batch, head) and streams the other side through shared
// memory tile by tile, so scores exist only as one TILE x TILE block in shared
// memory. Forward keeps an online softmax (running max and sum per row) and
// saves the logsumexp; backward recomputes P = exp(S - lse) and uses
// D = rowsum(dO * O), computed beforehand, for dS = P * (dP - D). dQ and
// dK/dV come from two kernels that each own their output rows, so there are
// no atomics and every sum runs in a fixed order (deterministic).
//
// Inputs are converted to float in shared memory; accumulators live there
// too (head_dim is a runtime value). Rows read by lanes with different key
// indices use an odd stride so those lanes hit different banks.
#include <cmath>

#include "ops/cuda/attention_common.cuh"
#include "ops/cuda/kernel_utils.cuh"
#include "ops/cuda/runtime.h"

namespace graft::cuda::attention_detail {

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

__host__ __device__ inline int odd_stride(int head_dim) {
  return head_dim | 1;
}

template <class T>
__device__ __forceinline__ void store_grad(T* dst, float value, bool accumulate) {
  *dst = from_float<T>(accumulate ? to_float(*dst) + value : value);
}

// Rows [row0, row0 + TILE) of one head of a [B, T, H*Dh] tensor into a float
// tile with the given row stride; rows past `rows` read as zero.
template <class T, int TILE>
__device__ void load_tile(float* tile, int stride, const T* src, const Geometry& g, int b, int row0,
                          int rows, int h) {
  const int dh = g.head_dim;
  for (int x = threadIdx.x; x < TILE * dh; x += kThreads) {
    const int r = x / dh, col = x - r * dh;
    const int t = row0 + r;
    tile[r * stride + col] = t < rows ? to_float(src[g.row_offset(b, t, rows, h) + col]) : 0.0f;
  }
}

template <int TILE>
size_t forward_shared_floats(int dh) {
  const int ks = odd_stride(dh);
  return size_t{TILE} * (2 * ks + 2 * dh + TILE + 1) + 3 * TILE;
}

template <class T, int TILE>
__global__ void __launch_bounds__(kThreads)
    general_forward_kernel(Geometry g, const T* q, const T* k, const T* v, T* out, float* lse) {
  extern __shared__ float smem[];
  const int dh = g.head_dim, ks = odd_stride(dh);
  float* q_s = smem;             // [TILE][ks]
  float* k_s = q_s + TILE * ks;  // [TILE][ks]
  float* v_s = k_s + TILE * ks;  // [TILE][dh]
  float* o_s = v_s + TILE * dh;  // [TILE][dh] unnormalised output
  float* p_s = o_s + TILE * dh;  // [TILE][TILE + 1] scores, then probabilities
  float* m_s = p_s + TILE * (TILE + 1);
  float* l_s = m_s + TILE;
  float* alpha_s = l_s + TILE;
  const int i0 = blockIdx.x * TILE, h = blockIdx.y, b = blockIdx.z;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

  load_tile<T, TILE>(q_s, ks, q, g, b, i0, g.q_len, h);
  for (int x = threadIdx.x; x < TILE * dh; x += kThreads)
    o_s[x] = 0.0f;
  if (threadIdx.x < TILE) {
    m_s[threadIdx.x] = -INFINITY;
    l_s[threadIdx.x] = 0.0f;
  }
  const int last_row = min(i0 + TILE, g.q_len) - 1;
  const int key_end = key_end_for(g, last_row);
  for (int j0 = 0; j0 < key_end; j0 += TILE) {
    __syncthreads();  // the previous tile is fully consumed
    load_tile<T, TILE>(k_s, ks, k, g, b, j0, g.k_len, h);
    load_tile<T, TILE>(v_s, dh, v, g, b, j0, g.k_len, h);
    __syncthreads();
    for (int x = threadIdx.x; x < TILE * TILE; x += kThreads) {
      const int r = x / TILE, c = x % TILE;
      float s = -INFINITY;
      if (key_visible(g, b, i0 + r, j0 + c)) {
        float dot = 0.0f;
        for (int d = 0; d < dh; ++d)
          dot += q_s[r * ks + d] * k_s[c * ks + d];
        s = dot * g.scale;
      }
      p_s[r * (TILE + 1) + c] = s;
    }
    __syncthreads();
    for (int r = warp; r < TILE; r += kWarps) {
      const float s = lane < TILE ? p_s[r * (TILE + 1) + lane] : -INFINITY;
      const float m_old = m_s[r];
      const float m_new = fmaxf(m_old, warp_max(s));
      // A row that has seen no visible key yet keeps m = -inf, p = 0.
      const float m_use = m_new == -INFINITY ? 0.0f : m_new;
      const float p = expf(s - m_use);
      const float sum = warp_sum(p);
      if (lane < TILE) p_s[r * (TILE + 1) + lane] = p;
      if (lane == 0) {
        const float alpha = expf(m_old - m_use);
        m_s[r] = m_new;
        l_s[r] = l_s[r] * alpha + sum;
        alpha_s[r] = alpha;
      }
    }
    __syncthreads();
    for (int x = threadIdx.x; x < TILE * dh; x += kThreads) {
      const int r = x / dh, d = x - r * dh;
      float acc = o_s[x] * alpha_s[r];
      for (int c = 0; c < TILE; ++c)
        acc += p_s[r * (TILE + 1) + c] * v_s[c * dh + d];
      o_s[x] = acc;
    }
  }
  __syncthreads();
  for (int x = threadIdx.x; x < TILE * dh; x += kThreads) {
    const int r = x / dh, d = x - r * dh;
    const int i = i0 + r;
    if (i >= g.q_len) continue;
    const float l = l_s[r];
    out[g.row_offset(b, i, g.q_len, h) + d] = from_float<T>(l > 0.0f ? o_s[x] / l : 0.0f);
  }
  if (lse != nullptr && threadIdx.x < TILE && i0 + threadIdx.x < g.q_len) {
    const float l = l_s[threadIdx.x];
    lse[g.stat_index(b, h, i0 + threadIdx.x)] = l > 0.0f ? m_s[threadIdx.x] + logf(l) : INFINITY;
  }
}

// P and dS of query row r, key column c (shared-memory tiles of one query
// tile and one key tile); zero where the key is invisible.
struct ProbAndGrad {
  float p, ds;
};
__device__ __forceinline__ ProbAndGrad prob_and_grad(const Geometry& g, int b, int i, int j,
                                                     const float* q_row, const float* do_row,
                                                     const float* k_row, const float* v_row,
                                                     float row_lse, float row_delta) {
  if (!key_visible(g, b, i, j)) return {0.0f, 0.0f};
  float s = 0.0f, dp = 0.0f;
  for (int d = 0; d < g.head_dim; ++d) {
    s += q_row[d] * k_row[d];
    dp += do_row[d] * v_row[d];
  }
  const float p = expf(s * g.scale - row_lse);
  return {p, p * (dp - row_delta)};
}

template <int TILE>
size_t dq_shared_floats(int dh) {
  return size_t{TILE} * (4 * odd_stride(dh) + dh + TILE + 1) + 2 * TILE;
}

// dQ = scale * dS K for one query tile, streaming key tiles.
template <class T, int TILE>
__global__ void __launch_bounds__(kThreads)
    general_dq_kernel(Geometry g, const T* q, const T* k, const T* v, const T* dout,
                      const float* lse, const float* delta, T* dq, bool accumulate) {
  extern __shared__ float smem[];
  const int dh = g.head_dim, ks = odd_stride(dh);
  float* q_s = smem;
  float* do_s = q_s + TILE * ks;
  float* k_s = do_s + TILE * ks;
  float* v_s = k_s + TILE * ks;
  float* dq_s = v_s + TILE * ks;   // [TILE][dh]
  float* ds_s = dq_s + TILE * dh;  // [TILE][TILE + 1]
  float* lse_s = ds_s + TILE * (TILE + 1);
  float* delta_s = lse_s + TILE;
  const int i0 = blockIdx.x * TILE, h = blockIdx.y, b = blockIdx.z;

  load_tile<T, TILE>(q_s, ks, q, g, b, i0, g.q_len, h);
  load_tile<T, TILE>(do_s, ks, dout, g, b, i0, g.q_len, h);
  for (int x = threadIdx.x; x < TILE * dh; x += kThreads)
    dq_s[x] = 0.0f;
  if (threadIdx.x < TILE) {
    const int i = i0 + threadIdx.x;
    lse_s[threadIdx.x] = i < g.q_len ? lse[g.stat_index(b, h, i)] : INFINITY;
    delta_s[threadIdx.x] = i < g.q_len ? delta[g.stat_index(b, h, i)] : 0.0f;
  }
  const int key_end = key_end_for(g, min(i0 + TILE, g.q_len) - 1);
  for (int j0 = 0; j0 < key_end; j0 += TILE) {
    __syncthreads();
    load_tile<T, TILE>(k_s, ks, k, g, b, j0, g.k_len, h);
    load_tile<T, TILE>(v_s, ks, v, g, b, j0, g.k_len, h);
    __syncthreads();
    for (int x = threadIdx.x; x < TILE * TILE; x += kThreads) {
      const int r = x / TILE, c = x % TILE;
      ds_s[r * (TILE + 1) + c] = prob_and_grad(g, b, i0 + r, j0 + c, q_s + r * ks, do_s + r * ks,
                                               k_s + c * ks, v_s + c * ks, lse_s[r], delta_s[r])
                                     .ds;
    }
    __syncthreads();
    for (int x = threadIdx.x; x < TILE * dh; x += kThreads) {
      const int r = x / dh, d = x - r * dh;
      float acc = dq_s[x];
      for (int c = 0; c < TILE; ++c)
        acc += ds_s[r * (TILE + 1) + c] * k_s[c * ks + d];
      dq_s[x] = acc;
    }
  }
  __syncthreads();
  for (int x = threadIdx.x; x < TILE * dh; x += kThreads) {
    const int r = x / dh, d = x - r * dh;
    const int i = i0 + r;
    if (i < g.q_len)
      store_grad(dq + g.row_offset(b, i, g.q_len, h) + d, g.scale * dq_s[x], accumulate);
  }
}

template <int TILE>
size_t dkv_shared_floats(int dh) {
  return size_t{TILE} * (4 * odd_stride(dh) + 2 * dh + 2 * (TILE + 1)) + 2 * TILE;
}

// dK = scale * dS^T Q and dV = P^T dO for one key tile, streaming the query
// tiles that can see it. dK is stored before dV (with a barrier between) so
// that aliased dK/dV slots add up.
template <class T, int TILE>
__global__ void __launch_bounds__(kThreads)
    general_dkv_kernel(Geometry g, const T* q, const T* k, const T* v, const T* dout,
                       const float* lse, const float* delta, T* dk, bool dk_accumulate, T* dv,
                       bool dv_accumulate) {
  extern __shared__ float smem[];
  const int dh = g.head_dim, ks = odd_stride(dh);
  float* k_s = smem;
  float* v_s = k_s + TILE * ks;
  float* q_s = v_s + TILE * ks;
  float* do_s = q_s + TILE * ks;
  float* dk_s = do_s + TILE * ks;         // [TILE][dh]
  float* dv_s = dk_s + TILE * dh;         // [TILE][dh]
  float* p_s = dv_s + TILE * dh;          // [TILE queries][TILE + 1]
  float* ds_s = p_s + TILE * (TILE + 1);  // [TILE queries][TILE + 1]
  float* lse_s = ds_s + TILE * (TILE + 1);
  float* delta_s = lse_s + TILE;
  const int j0 = blockIdx.x * TILE, h = blockIdx.y, b = blockIdx.z;

  load_tile<T, TILE>(k_s, ks, k, g, b, j0, g.k_len, h);
  load_tile<T, TILE>(v_s, ks, v, g, b, j0, g.k_len, h);
  for (int x = threadIdx.x; x < TILE * dh; x += kThreads) {
    dk_s[x] = 0.0f;
    dv_s[x] = 0.0f;
  }
  const int first_tile = first_query_for(g, j0) / TILE;
  for (int i0 = first_tile * TILE; i0 < g.q_len; i0 += TILE) {
    __syncthreads();
    load_tile<T, TILE>(q_s, ks, q, g, b, i0, g.q_len, h);
    load_tile<T, TILE>(do_s, ks, dout, g, b, i0, g.q_len, h);
    if (threadIdx.x < TILE) {
      const int i = i0 + threadIdx.x;
      lse_s[threadIdx.x] = i < g.q_len ? lse[g.stat_index(b, h, i)] : INFINITY;
      delta_s[threadIdx.x] = i < g.q_len ? delta[g.stat_index(b, h, i)] : 0.0f;
    }
    __syncthreads();
    for (int x = threadIdx.x; x < TILE * TILE; x += kThreads) {
      const int r = x / TILE, c = x % TILE;
      const ProbAndGrad pg = prob_and_grad(g, b, i0 + r, j0 + c, q_s + r * ks, do_s + r * ks,
                                           k_s + c * ks, v_s + c * ks, lse_s[r], delta_s[r]);
      p_s[r * (TILE + 1) + c] = pg.p;
      ds_s[r * (TILE + 1) + c] = pg.ds;
    }
    __syncthreads();
    for (int x = threadIdx.x; x < TILE * dh; x += kThreads) {
      const int c = x / dh, d = x - c * dh;
      float acc_k = dk_s[x], acc_v = dv_s[x];
      for (int r = 0; r < TILE; ++r) {
        acc_k += ds_s[r * (TILE + 1) + c] * q_s[r * ks + d];
        acc_v += p_s[r * (TILE + 1) + c] * do_s[r * ks + d];
      }
      dk_s[x] = acc_k;
      dv_s[x] = acc_v;
    }
  }
  __syncthreads();
  if (dk != nullptr) {
    for (int x = threadIdx.x; x < TILE * dh; x += kThreads) {
      const int c = x / dh, d = x - c * dh;
      const int j = j0 + c;
      if (j < g.k_len)
        store_grad(dk + g.row_offset(b, j, g.k_len, h) + d, g.scale * dk_s[x], dk_accumulate);
    }
  }
  __syncthreads();  // global writes above are visible to the block below
  if (dv != nullptr) {
    for (int x = threadIdx.x; x < TILE * dh; x += kThreads) {
      const int c = x / dh, d = x - c * dh;
      const int j = j0 + c;
      if (j < g.k_len) store_grad(dv + g.row_offset(b, j, g.k_len, h) + d, dv_s[x], dv_accumulate);
    }
  }
}

// The largest tile (32 or 16 rows) whose shared memory fits; 0 when none.
template <class Floats>
int pick_tile(Floats floats_for_tile, int dh) {
  const size_t limit = static_cast<size_t>(max_dynamic_shared_bytes());
  if (floats_for_tile(32, dh) * sizeof(float) <= limit) return 32;
  if (floats_for_tile(16, dh) * sizeof(float) <= limit) return 16;
  return 0;
}

template <class Kernel>
void allow_shared(Kernel kernel, size_t bytes) {
  GRAFT_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(bytes)));
}

dim3 grid_of(const Geometry& g, int rows, int tile) {
  return dim3(static_cast<unsigned>((rows + tile - 1) / tile), static_cast<unsigned>(g.heads),
              static_cast<unsigned>(g.batch));
}

template <class T, int TILE>
void forward_typed(const Geometry& g, const void* q, const void* k, const void* v, void* out,
                   float* lse) {
  const size_t bytes = forward_shared_floats<TILE>(g.head_dim) * sizeof(float);
  auto kernel = general_forward_kernel<T, TILE>;
  allow_shared(kernel, bytes);
  kernel<<<grid_of(g, g.q_len, TILE), kThreads, bytes, stream()>>>(
      g, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v),
      static_cast<T*>(out), lse);
  GRAFT_CUDA_CHECK_LAUNCH();
}

template <class T, int TILE>
void backward_typed(const Geometry& g, const void* q, const void* k, const void* v,
                    const void* dout, const float* lse, const float* delta, GradOut dq, GradOut dk,
                    GradOut dv) {
  const T* qt = static_cast<const T*>(q);
  const T* kt = static_cast<const T*>(k);
  const T* vt = static_cast<const T*>(v);
  const T* dot = static_cast<const T*>(dout);
  if (dq.grad != nullptr) {
    const size_t bytes = dq_shared_floats<TILE>(g.head_dim) * sizeof(float);
    auto kernel = general_dq_kernel<T, TILE>;
    allow_shared(kernel, bytes);
    kernel<<<grid_of(g, g.q_len, TILE), kThreads, bytes, stream()>>>(
        g, qt, kt, vt, dot, lse, delta, static_cast<T*>(dq.grad), dq.accumulate);
    GRAFT_CUDA_CHECK_LAUNCH();
  }
  if (dk.grad != nullptr || dv.grad != nullptr) {
    const size_t bytes = dkv_shared_floats<TILE>(g.head_dim) * sizeof(float);
    auto kernel = general_dkv_kernel<T, TILE>;
    allow_shared(kernel, bytes);
    kernel<<<grid_of(g, g.k_len, TILE), kThreads, bytes, stream()>>>(
        g, qt, kt, vt, dot, lse, delta, static_cast<T*>(dk.grad), dk.accumulate,
        static_cast<T*>(dv.grad), dv.accumulate);
    GRAFT_CUDA_CHECK_LAUNCH();
  }
}

void check_tile(int tile, int dh, const char* what) {
  GRAFT_CHECK(tile != 0, "scaled_dot_product_attention: head_dim "
                             << dh << " needs more shared memory than this GPU offers (" << what
                             << ")");
}

}  // namespace

void general_forward(const Geometry& g, bool is_bf16, const void* q, const void* k, const void* v,
                     void* out, float* lse) {
  const int tile = pick_tile(
      [](int t, int dh) {
        return t == 32 ? forward_shared_floats<32>(dh) : forward_shared_floats<16>(dh);
      },
      g.head_dim);
  check_tile(tile, g.head_dim, "forward");
  if (is_bf16) {
    if (tile == 32)
      forward_typed<__nv_bfloat16, 32>(g, q, k, v, out, lse);
    else
      forward_typed<__nv_bfloat16, 16>(g, q, k, v, out, lse);
  } else {
    if (tile == 32)
      forward_typed<float, 32>(g, q, k, v, out, lse);
    else
      forward_typed<float, 16>(g, q, k, v, out, lse);
  }
}

void general_backward(const Geometry& g, bool is_bf16, const void* q, const void* k, const void* v,
                      const void* dout, const float* lse, const float* delta, GradOut dq,
                      GradOut dk, GradOut dv) {
  // One tile for both kernels: the dK/dV kernel needs the most.
  const int tile = pick_tile(
      [](int t, int dh) { return t == 32 ? dkv_shared_floats<32>(dh) : dkv_shared_floats<16>(dh); },
      g.head_dim);
  check_tile(tile, g.head_dim, "backward");
  if (is_bf16) {
    if (tile == 32)
      backward_typed<__nv_bfloat16, 32>(g, q, k, v, dout, lse, delta, dq, dk, dv);
    else
      backward_typed<__nv_bfloat16, 16>(g, q, k, v, dout, lse, delta, dq, dk, dv);
  } else {
    if (tile == 32)
      backward_typed<float, 32>(g, q, k, v, dout, lse, delta, dq, dk, dv);
    else
      backward_typed<float, 16>(g, q, k, v, dout, lse, delta, dq, dk, dv);
  }
}

}  // namespace graft::cuda::attention_detail
