// Kernels shared by layer_norm (kCentered = true: subtract the row mean, keep
// it) and rms_norm (kCentered = false: no mean); the two ops differ only there.
//
// Forward: one block per row. A row of up to kPerThread * 1024 elements is held
// in registers, so the mean and then the centred sum of squares are two passes
// over registers, not over memory (as accurate as the CPU's two-pass variance,
// and no Welford merge); a longer row is re-read from memory (L2-resident).
// Backward: one pass. A block takes a fixed chunk of consecutive rows and all
// d columns; per row it reads x and dout once (16-byte packs when the rows are
// aligned), writes dx, and adds the row into per-column dweight/dbias partial
// sums that each thread keeps in registers for the columns it owns. The
// partials go to [chunks, d] f32 buffers and a second kernel adds the chunks
// in a fixed order per column. Chunking depends on the row count only and
// there are no float atomics, so gradients are bit-identical run to run.
#pragma once

#include "ops/autograd.h"
#include "ops/cuda/kernel_utils.cuh"
#include "ops/cuda/packed_access.cuh"
#include "ops/cuda/runtime.h"

namespace graft::cuda::row_norm {

constexpr int kPerThread = 8;
// Backward row chunks: at least kMinChunkRows rows each, at most kMaxChunks
// chunks (about 8 blocks per SM on an H100: enough loads in flight, while the
// [chunks, d] f32 partials stay small next to x and dout).
constexpr int64_t kMaxChunks = 1024;
constexpr int64_t kMinChunkRows = 16;
// Column finish: 32 columns (one coalesced warp-wide load) by 32 chunk lanes.
constexpr int kFinishColumns = 32;
constexpr int kFinishLanes = 32;

// Threads per row block: enough for kPerThread elements each, a whole number
// of warps, at most 1024.
inline int threads_for_row(int64_t d) {
  int64_t threads = (d + kPerThread - 1) / kPerThread;
  threads = (threads + 31) / 32 * 32;
  if (threads < 32) threads = 32;
  if (threads > 1024) threads = 1024;
  return static_cast<int>(threads);
}

// How backward splits rows into chunks: a function of rows only, so the
// rounding of dweight never depends on the GPU. No chunk is empty.
struct ChunkPlan {
  int64_t chunks;
  int64_t chunk_rows;
};
inline ChunkPlan column_chunks(int64_t rows) {
  if (rows <= 0) return {0, 0};
  int64_t chunks = (rows + kMinChunkRows - 1) / kMinChunkRows;
  if (chunks > kMaxChunks) chunks = kMaxChunks;
  const int64_t chunk_rows = (rows + chunks - 1) / chunks;
  return {(rows + chunk_rows - 1) / chunk_rows, chunk_rows};
}

template <class T, bool kCentered>
__global__ void forward_kernel(const T* __restrict__ x, const T* __restrict__ weight,
                               const T* __restrict__ bias, float eps, int64_t d,
                               T* __restrict__ out, float* __restrict__ mean_out,
                               float* __restrict__ rstd_out) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  const T* xr = x + row * d;
  T* orow = out + row * d;
  const int stride = blockDim.x;
  const bool cached = d <= int64_t{kPerThread} * stride;
  const float inv_d = 1.0f / static_cast<float>(d);
  float v[kPerThread];
  if (cached) {
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) {
      const int64_t j = threadIdx.x + int64_t{k} * stride;
      v[k] = j < d ? to_float(xr[j]) : 0.0f;
    }
  }
  float mu = 0.0f;
  if (kCentered) {
    float sum = 0.0f;
    if (cached) {
#pragma unroll
      for (int k = 0; k < kPerThread; ++k)
        sum += v[k];
    } else {
      for (int64_t j = threadIdx.x; j < d; j += stride)
        sum += to_float(xr[j]);
    }
    mu = block_sum(sum, scratch) * inv_d;
  }
  float sq = 0.0f;
  if (cached) {
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) {
      const int64_t j = threadIdx.x + int64_t{k} * stride;
      const float c = v[k] - mu;
      if (j < d) sq += c * c;
    }
  } else {
    for (int64_t j = threadIdx.x; j < d; j += stride) {
      const float c = to_float(xr[j]) - mu;
      sq += c * c;
    }
  }
  sq = block_sum(sq, scratch);
  const float rs = 1.0f / sqrtf(sq * inv_d + eps);
  if (threadIdx.x == 0) {
    if (kCentered) mean_out[row] = mu;
    rstd_out[row] = rs;
  }
  if (cached) {
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) {
      const int64_t j = threadIdx.x + int64_t{k} * stride;
      if (j < d) {
        float y = (v[k] - mu) * rs * to_float(weight[j]);
        if (bias != nullptr) y += to_float(bias[j]);
        orow[j] = from_float<T>(y);
      }
    }
  } else {
    for (int64_t j = threadIdx.x; j < d; j += stride) {
      float y = (to_float(xr[j]) - mu) * rs * to_float(weight[j]);
      if (bias != nullptr) y += to_float(bias[j]);
      orow[j] = from_float<T>(y);
    }
  }
}

// Sums a and b over the block with one pair of barriers; every thread gets
// both. blockDim.x a multiple of 32; scratch holds 32 float2.
__device__ __forceinline__ float2 block_sum2(float a, float b, float2* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = blockDim.x >> 5;
  a = warp_sum(a);
  b = warp_sum(b);
  __syncthreads();  // scratch may still be read by the previous row's call
  if (lane == 0) scratch[warp] = make_float2(a, b);
  __syncthreads();
  const float2 v = lane < warps ? scratch[lane] : make_float2(0.0f, 0.0f);
  return make_float2(warp_sum(v.x), warp_sum(v.y));
}

// One block per chunk of rows [chunk * chunk_rows, +chunk_rows). For each row:
// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dout * weight (the
// mean(g) term only when kCentered), and the chunk's column partials
// Σ dout * xhat (dweight) and Σ dout (dbias) grow by the row. x and dout are
// read once. Each thread owns the same columns in every row, so the partials
// stay in registers and are written once per chunk into [chunks, d] f32
// buffers (either may be null; dx may be null).
// Columns are held in registers when d <= kPerThread * blockDim.x, as kVec-
// element packs (kVec > 1 only when every row start is 16-byte aligned);
// longer rows are walked twice from memory (L2-resident) and the partials
// updated in place in the buffer, each column by its one thread.
// __launch_bounds__(1024): threads_for_row may ask for 1024 threads.
template <class T, bool kCentered, int kVec>
__global__ void __launch_bounds__(1024)
    backward_kernel(const T* __restrict__ x, const T* __restrict__ weight,
                    const float* __restrict__ mean, const float* __restrict__ rstd,
                    const T* __restrict__ dout, int64_t rows, int64_t d, int64_t chunk_rows,
                    T* __restrict__ dx, bool accumulate_dx, float* __restrict__ dweight_partial,
                    float* __restrict__ dbias_partial) {
  static_assert(kPerThread % kVec == 0);
  constexpr int kSlots = kPerThread / kVec;
  __shared__ float2 scratch[32];
  const int64_t chunk = blockIdx.x;
  const int64_t begin = chunk * chunk_rows;
  const int64_t end = begin + chunk_rows < rows ? begin + chunk_rows : rows;
  float* wp = dweight_partial != nullptr ? dweight_partial + chunk * d : nullptr;
  float* bp = dbias_partial != nullptr ? dbias_partial + chunk * d : nullptr;
  const float inv_d = 1.0f / static_cast<float>(d);
  if (d <= int64_t{kPerThread} * blockDim.x) {
    // Slot k of this thread is the pack starting at column
    // (threadIdx.x + k * blockDim.x) * kVec; d % kVec == 0 when kVec > 1, so a
    // pack is wholly inside the row or wholly outside.
    float w[kSlots][kVec], acc_w[kSlots][kVec], acc_b[kSlots][kVec];
#pragma unroll
    for (int k = 0; k < kSlots; ++k) {
      const int64_t j0 = (threadIdx.x + int64_t{k} * blockDim.x) * kVec;
#pragma unroll
      for (int e = 0; e < kVec; ++e) {
        w[k][e] = 0.0f;
        acc_w[k][e] = 0.0f;
        acc_b[k][e] = 0.0f;
      }
      if (j0 < d) load_floats<T, kVec>(weight + j0, w[k]);
    }
    for (int64_t r = begin; r < end; ++r) {
      const T* xr = x + r * d;
      const T* gr = dout + r * d;
      float xhat[kSlots][kVec], g[kSlots][kVec];
#pragma unroll
      for (int k = 0; k < kSlots; ++k) {
        const int64_t j0 = (threadIdx.x + int64_t{k} * blockDim.x) * kVec;
#pragma unroll
        for (int e = 0; e < kVec; ++e) {
          xhat[k][e] = 0.0f;
          g[k][e] = 0.0f;
        }
        if (j0 < d) {
          load_floats<T, kVec>(xr + j0, xhat[k]);
          load_floats<T, kVec>(gr + j0, g[k]);
        }
      }
      const float mu = kCentered ? mean[r] : 0.0f;
      const float rs = rstd[r];
      float sum_g = 0.0f, sum_gx = 0.0f;
#pragma unroll
      for (int k = 0; k < kSlots; ++k) {
        const int64_t j0 = (threadIdx.x + int64_t{k} * blockDim.x) * kVec;
        if (j0 >= d) continue;
#pragma unroll
        for (int e = 0; e < kVec; ++e) {
          xhat[k][e] = (xhat[k][e] - mu) * rs;
          const float gw = g[k][e] * w[k][e];
          sum_g += gw;
          sum_gx += gw * xhat[k][e];
          acc_w[k][e] += g[k][e] * xhat[k][e];
          acc_b[k][e] += g[k][e];
        }
      }
      const float2 sums = block_sum2(sum_g, sum_gx, scratch);
      const float mean_g = kCentered ? sums.x * inv_d : 0.0f;
      const float mean_gx = sums.y * inv_d;
      if (dx != nullptr) {
        T* dr = dx + r * d;
#pragma unroll
        for (int k = 0; k < kSlots; ++k) {
          const int64_t j0 = (threadIdx.x + int64_t{k} * blockDim.x) * kVec;
          if (j0 >= d) continue;
          float previous[kVec], value[kVec];
          if (accumulate_dx) load_floats<T, kVec>(dr + j0, previous);
#pragma unroll
          for (int e = 0; e < kVec; ++e) {
            const float gw = g[k][e] * w[k][e];
            value[e] = rs * (gw - mean_g - xhat[k][e] * mean_gx);
            if (accumulate_dx) value[e] = previous[e] + value[e];
          }
          store_floats<T, kVec>(dr + j0, value);
        }
      }
    }
#pragma unroll
    for (int k = 0; k < kSlots; ++k) {
      const int64_t j0 = (threadIdx.x + int64_t{k} * blockDim.x) * kVec;
      if (j0 >= d) continue;
#pragma unroll
      for (int e = 0; e < kVec; ++e) {
        if (wp != nullptr) wp[j0 + e] = acc_w[k][e];
        if (bp != nullptr) bp[j0 + e] = acc_b[k][e];
      }
    }
    return;
  }
  // Rows too long for registers: element loops, scalar accesses.
  for (int64_t r = begin; r < end; ++r) {
    const T* xr = x + r * d;
    const T* gr = dout + r * d;
    const float mu = kCentered ? mean[r] : 0.0f;
    const float rs = rstd[r];
    float sum_g = 0.0f, sum_gx = 0.0f;
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
      const float gw = to_float(gr[j]) * to_float(weight[j]);
      sum_g += gw;
      sum_gx += gw * (to_float(xr[j]) - mu) * rs;
    }
    const float2 sums = block_sum2(sum_g, sum_gx, scratch);
    const float mean_g = kCentered ? sums.x * inv_d : 0.0f;
    const float mean_gx = sums.y * inv_d;
    const bool first = r == begin;
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
      const float gj = to_float(gr[j]);
      const float xhat = (to_float(xr[j]) - mu) * rs;
      if (dx != nullptr) {
        const float value = rs * (gj * to_float(weight[j]) - mean_g - xhat * mean_gx);
        T* dr = dx + r * d;
        dr[j] = from_float<T>(accumulate_dx ? to_float(dr[j]) + value : value);
      }
      // Only this thread touches column j of this chunk's partials.
      if (wp != nullptr) wp[j] = (first ? 0.0f : wp[j]) + gj * xhat;
      if (bp != nullptr) bp[j] = (first ? 0.0f : bp[j]) + gj;
    }
  }
}

// Block of 32 x 32 threads per 32 columns: thread (c, lane) sums chunks lane,
// lane + 32, ... of column c in order, then lane 0 adds the 32 lane sums in
// order and writes grad (+)= total. Fixed by the shape, so deterministic.
template <class T>
__global__ void column_finish_kernel(const float* __restrict__ dweight_partial,
                                     const float* __restrict__ dbias_partial, int64_t chunks,
                                     int64_t d, T* __restrict__ dweight, bool accumulate_dweight,
                                     T* __restrict__ dbias, bool accumulate_dbias) {
  __shared__ float lane_w[kFinishLanes][kFinishColumns + 1];
  __shared__ float lane_b[kFinishLanes][kFinishColumns + 1];
  const int64_t col = int64_t{blockIdx.x} * kFinishColumns + threadIdx.x;
  float sw = 0.0f, sb = 0.0f;
  if (col < d) {
    for (int64_t c = threadIdx.y; c < chunks; c += kFinishLanes) {
      if (dweight != nullptr) sw += dweight_partial[c * d + col];
      if (dbias != nullptr) sb += dbias_partial[c * d + col];
    }
  }
  lane_w[threadIdx.y][threadIdx.x] = sw;
  lane_b[threadIdx.y][threadIdx.x] = sb;
  __syncthreads();
  if (threadIdx.y != 0 || col >= d) return;
  float tw = 0.0f, tb = 0.0f;
  for (int k = 0; k < kFinishLanes; ++k) {
    tw += lane_w[k][threadIdx.x];
    tb += lane_b[k][threadIdx.x];
  }
  if (dweight != nullptr)
    dweight[col] = from_float<T>(accumulate_dweight ? to_float(dweight[col]) + tw : tw);
  if (dbias != nullptr)
    dbias[col] = from_float<T>(accumulate_dbias ? to_float(dbias[col]) + tb : tb);
}

// Host side: the launches both ops share. x is [rows, d]; mean is null for
// rms_norm; bias null when absent.
template <class T, bool kCentered>
void forward(const T* x, const T* weight, const T* bias, float eps, int64_t rows, int64_t d, T* out,
             float* mean, float* rstd) {
  if (rows == 0) return;
  forward_kernel<T, kCentered><<<static_cast<unsigned>(rows), threads_for_row(d), 0, stream()>>>(
      x, weight, bias, eps, d, out, mean, rstd);
  GRAFT_CUDA_CHECK_LAUNCH();
}

template <class T, bool kCentered>
void backward(const T* x, const T* weight, const float* mean, const float* rstd, const T* dout,
              int64_t rows, int64_t d, const GradSlot* dx, const GradSlot* dweight,
              const GradSlot* dbias) {
  T* dx_data = dx != nullptr ? static_cast<T*>(dx->grad.raw_data()) : nullptr;
  const bool accumulate_dx = dx != nullptr && dx->accumulate;
  const ChunkPlan plan = column_chunks(rows);
  Tensor w_partial, b_partial;
  if (dweight != nullptr) w_partial = Tensor::empty({plan.chunks, d}, DType::f32, Device::cuda);
  if (dbias != nullptr) b_partial = Tensor::empty({plan.chunks, d}, DType::f32, Device::cuda);
  float* wp = dweight != nullptr ? w_partial.data<float>() : nullptr;
  float* bp = dbias != nullptr ? b_partial.data<float>() : nullptr;
  if (plan.chunks > 0 && (dx_data != nullptr || wp != nullptr || bp != nullptr)) {
    constexpr int kVec = kPack16<T>;
    const bool packed = d <= int64_t{kPerThread} * 1024 && rows_are_pack_aligned<T>(x, d) &&
                        rows_are_pack_aligned<T>(dout, d) && rows_are_pack_aligned<T>(weight, d) &&
                        (dx_data == nullptr || rows_are_pack_aligned<T>(dx_data, d));
    auto kernel = packed ? backward_kernel<T, kCentered, kVec> : backward_kernel<T, kCentered, 1>;
    kernel<<<static_cast<unsigned>(plan.chunks), threads_for_row(d), 0, stream()>>>(
        x, weight, mean, rstd, dout, rows, d, plan.chunk_rows, dx_data, accumulate_dx, wp, bp);
    GRAFT_CUDA_CHECK_LAUNCH();
  }
  if (dweight == nullptr && dbias == nullptr) return;
  const auto column_tiles = static_cast<unsigned>((d + kFinishColumns - 1) / kFinishColumns);
  column_finish_kernel<T><<<column_tiles, dim3(kFinishColumns, kFinishLanes), 0, stream()>>>(
      wp, bp, plan.chunks, d,
      dweight != nullptr ? static_cast<T*>(dweight->grad.raw_data()) : nullptr,
      dweight != nullptr && dweight->accumulate,
      dbias != nullptr ? static_cast<T*>(dbias->grad.raw_data()) : nullptr,
      dbias != nullptr && dbias->accumulate);
  GRAFT_CUDA_CHECK_LAUNCH();
}

}  // namespace graft::cuda::row_norm
