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
#include "ops/cuda/attention_tensor_core_common.cuh"

namespace graft::cuda::attention_detail {

namespace {

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
void forward_for(const Geometry& g, const void* q, const void* k, const void* v, void* out,
                 float* lse) {
  constexpr size_t bytes = forward_shared_bytes<DH>();
  allow_shared(tc_forward_kernel<DH>, bytes);
  tc_forward_kernel<DH><<<grid_of(g, g.q_len), kThreads, bytes, stream()>>>(
      g, static_cast<const bf16*>(q), static_cast<const bf16*>(k), static_cast<const bf16*>(v),
      static_cast<bf16*>(out), lse);
  GRAFT_CUDA_CHECK_LAUNCH();
}

}  // namespace

void tensor_core_forward(const Geometry& g, const void* q, const void* k, const void* v, void* out,
                         float* lse) {
  if (g.head_dim == 64)
    forward_for<64>(g, q, k, v, out, lse);
  else
    forward_for<128>(g, q, k, v, out, lse);
}

}  // namespace graft::cuda::attention_detail
