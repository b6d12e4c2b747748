// Tensor-core attention backward (bf16, head_dim 64/128): dQ and dK/dV
// kernels; the design is described in attention_tensor_core_forward.cu.
#include "ops/cuda/attention_tensor_core_common.cuh"

namespace graft::cuda::attention_detail {

namespace {

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
