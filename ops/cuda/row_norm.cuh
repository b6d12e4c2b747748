// Kernels shared by layer_norm (kCentered = true: subtract the row mean, keep
// it) and rms_norm (kCentered = false: no mean); the two ops differ only there.
//
// Forward: one block per row. A row of up to kPerThread * 1024 elements is held
// in registers, so the mean and then the centred sum of squares are two passes
// over registers, not over memory (as accurate as the CPU's two-pass variance,
// and no Welford merge); a longer row is re-read from memory (L2-resident).
// Backward: dx one block per row; dweight/dbias as a deterministic column
// reduction: per-block partial sums over fixed row chunks into a [chunks, D]
// f32 buffer, then one kernel adds the chunks in order per column. No float
// atomics, so gradients are bit-identical run to run.
#pragma once

#include <utility>

#include "ops/autograd.h"
#include "ops/cuda/kernel_utils.cuh"
#include "ops/cuda/runtime.h"

namespace graft::cuda::row_norm {

constexpr int kPerThread = 8;
// Column reduction tile: 32 columns (one coalesced warp-wide load) by 8 rows.
constexpr int kTileColumns = 32;
constexpr int kTileRows = 8;
constexpr int64_t kMaxChunks = 256;
constexpr int64_t kMinChunkRows = 32;

// Threads per row block: enough for kPerThread elements each, a whole number
// of warps, at most 1024.
inline int threads_for_row(int64_t d) {
  int64_t threads = (d + kPerThread - 1) / kPerThread;
  threads = (threads + 31) / 32 * 32;
  if (threads < 32) threads = 32;
  if (threads > 1024) threads = 1024;
  return static_cast<int>(threads);
}

// How the column reduction splits rows: a function of rows only, so the
// rounding of dweight never depends on the GPU.
inline int64_t column_chunks(int64_t rows) {
  int64_t chunks = (rows + kMinChunkRows - 1) / kMinChunkRows;
  return chunks < kMaxChunks ? chunks : kMaxChunks;
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

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dout * weight; the
// mean(g) term only when kCentered.
template <class T, bool kCentered>
__global__ void backward_dx_kernel(const T* __restrict__ x, const T* __restrict__ weight,
                                   const float* __restrict__ mean, const float* __restrict__ rstd,
                                   const T* __restrict__ dout, int64_t d, T* __restrict__ dx,
                                   bool accumulate) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  const T* xr = x + row * d;
  const T* gr = dout + row * d;
  T* dr = dx + row * d;
  const float mu = kCentered ? mean[row] : 0.0f;
  const float rs = rstd[row];
  const float inv_d = 1.0f / static_cast<float>(d);
  float sum_g = 0.0f, sum_gx = 0.0f;
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
    const float gw = to_float(gr[j]) * to_float(weight[j]);
    sum_g += gw;
    sum_gx += gw * (to_float(xr[j]) - mu) * rs;
  }
  const float mean_g = kCentered ? block_sum(sum_g, scratch) * inv_d : 0.0f;
  const float mean_gx = block_sum(sum_gx, scratch) * inv_d;
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
    const float gw = to_float(gr[j]) * to_float(weight[j]);
    const float xhat = (to_float(xr[j]) - mu) * rs;
    const float value = rs * (gw - mean_g - xhat * mean_gx);
    dr[j] = from_float<T>(accumulate ? to_float(dr[j]) + value : value);
  }
}

// Block (column tile, row chunk): sums dout * xhat (dweight) and dout (dbias,
// when dbias_partial is non-null) over the chunk's rows, writes one partial
// per column. The 8 row lanes are combined in a fixed order.
template <class T, bool kCentered>
__global__ void column_partials_kernel(const T* __restrict__ x, const float* __restrict__ mean,
                                       const float* __restrict__ rstd, const T* __restrict__ dout,
                                       int64_t rows, int64_t d, int64_t chunk_rows,
                                       float* __restrict__ dweight_partial,
                                       float* __restrict__ dbias_partial) {
  __shared__ float tile_w[kTileRows][kTileColumns + 1];
  __shared__ float tile_b[kTileRows][kTileColumns + 1];
  const int64_t col = int64_t{blockIdx.x} * kTileColumns + threadIdx.x;
  const int64_t chunk = blockIdx.y;
  const int64_t begin = chunk * chunk_rows;
  const int64_t end = begin + chunk_rows < rows ? begin + chunk_rows : rows;
  float sw = 0.0f, sb = 0.0f;
  if (col < d) {
    for (int64_t r = begin + threadIdx.y; r < end; r += kTileRows) {
      const float g = to_float(dout[r * d + col]);
      const float mu = kCentered ? mean[r] : 0.0f;
      sw += g * (to_float(x[r * d + col]) - mu) * rstd[r];
      sb += g;
    }
  }
  tile_w[threadIdx.y][threadIdx.x] = sw;
  tile_b[threadIdx.y][threadIdx.x] = sb;
  __syncthreads();
  if (threadIdx.y == 0 && col < d) {
    float tw = 0.0f, tb = 0.0f;
    for (int k = 0; k < kTileRows; ++k) {
      tw += tile_w[k][threadIdx.x];
      tb += tile_b[k][threadIdx.x];
    }
    if (dweight_partial != nullptr) dweight_partial[chunk * d + col] = tw;
    if (dbias_partial != nullptr) dbias_partial[chunk * d + col] = tb;
  }
}

// grad[col] (+)= Σ_chunk partial[chunk, col], chunks in order.
template <class T>
__global__ void column_finish_kernel(const float* __restrict__ partial, int64_t chunks, int64_t d,
                                     T* __restrict__ grad, bool accumulate) {
  for (int64_t col = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; col < d;
       col += int64_t{gridDim.x} * blockDim.x) {
    float total = 0.0f;
    for (int64_t c = 0; c < chunks; ++c)
      total += partial[c * d + col];
    grad[col] = from_float<T>(accumulate ? to_float(grad[col]) + total : total);
  }
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
  if (dx != nullptr && rows > 0) {
    backward_dx_kernel<T, kCentered>
        <<<static_cast<unsigned>(rows), threads_for_row(d), 0, stream()>>>(
            x, weight, mean, rstd, dout, d, static_cast<T*>(dx->grad.raw_data()), dx->accumulate);
    GRAFT_CUDA_CHECK_LAUNCH();
  }
  if (dweight == nullptr && dbias == nullptr) return;
  const int64_t chunks = column_chunks(rows);
  const int64_t chunk_rows = chunks > 0 ? (rows + chunks - 1) / chunks : 0;
  Tensor w_partial, b_partial;
  if (dweight != nullptr) w_partial = Tensor::empty({chunks, d}, DType::f32, Device::cuda);
  if (dbias != nullptr) b_partial = Tensor::empty({chunks, d}, DType::f32, Device::cuda);
  float* wp = dweight != nullptr ? w_partial.data<float>() : nullptr;
  float* bp = dbias != nullptr ? b_partial.data<float>() : nullptr;
  if (chunks > 0) {
    const dim3 grid(static_cast<unsigned>((d + kTileColumns - 1) / kTileColumns),
                    static_cast<unsigned>(chunks));
    column_partials_kernel<T, kCentered><<<grid, dim3(kTileColumns, kTileRows), 0, stream()>>>(
        x, mean, rstd, dout, rows, d, chunk_rows, wp, bp);
    GRAFT_CUDA_CHECK_LAUNCH();
  }
  constexpr int kFinishThreads = 256;
  for (auto [slot, partial] : {std::pair{dweight, wp}, std::pair{dbias, bp}}) {
    if (slot == nullptr) continue;
    column_finish_kernel<T><<<grid_for(d, kFinishThreads), kFinishThreads, 0, stream()>>>(
        partial, chunks, d, static_cast<T*>(slot->grad.raw_data()), slot->accumulate);
    GRAFT_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace graft::cuda::row_norm
