// softmax cross-entropy on the GPU, fused: the forward reads each row of
// logits once (online max and rescaled exp-sum per thread, merged across the
// block), keeps only the f32 logsumexp, and never writes probabilities; the
// backward recomputes softmax from it in one pass that writes dlogits.
// Rows whose start is 16-byte aligned (V * sizeof(T) % 16 == 0, aligned base:
// GPT-2's padded V = 50304) are read and written in 16-byte packs; the scalar
// path covers any other V.
//
// One block per row: a GPT-2 row (V = 50304) is ~100 elements per thread, and
// a row's reduction stays inside one block, so its rounding is fixed. Per-row
// losses (double) and a status per row (ignored, counted, counted and correct,
// bad target) go to [N] buffers; one 1024-thread block then reduces them in a
// fixed order, finds the first bad row without atomics, and writes the mean
// loss on the device. The host reads the totals back once (it needs the count
// for the FLOPs ledger and must throw on a bad target).
#include <cfloat>
#include <climits>

#include "ops/cuda/cross_entropy.h"
#include "ops/cuda/kernel_utils.cuh"
#include "ops/cuda/packed_access.cuh"
#include "ops/cuda/runtime.h"

namespace graft::cuda {

namespace {

constexpr int kFinishThreads = 1024;

enum RowStatus : int32_t { kIgnored = 0, kCounted = 1, kCountedCorrect = 2, kBadTarget = -1 };

struct ForwardTotals {
  double loss_sum;
  long long count;
  long long correct;
  long long first_bad_row;  // -1 when every target is valid
};

int threads_for_vocab(int64_t vocab) {
  int64_t threads = (vocab + 15) / 16;
  threads = (threads + 31) / 32 * 32;
  if (threads < 32) threads = 32;
  if (threads > 512) threads = 512;
  return static_cast<int>(threads);
}

__device__ __forceinline__ int block_min_int(int v, int* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = blockDim.x >> 5;
  for (int offset = 16; offset > 0; offset >>= 1)
    v = min(v, __shfl_xor_sync(0xffffffffu, v, offset));
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : INT_MAX;
  for (int offset = 16; offset > 0; offset >>= 1)
    v = min(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// kVec: elements per access (kPack16<T> when the rows are 16-byte aligned,
// else 1); vocab % kVec == 0.
template <class T, int kVec>
__global__ void rows_forward_kernel(const T* __restrict__ logits,
                                    const int32_t* __restrict__ targets, int64_t vocab,
                                    int32_t ignore, float eps, bool count_correct,
                                    float* __restrict__ lse_out, double* __restrict__ row_loss,
                                    int32_t* __restrict__ row_status) {
  __shared__ float scratch[32];
  __shared__ int index_scratch[32];
  const int64_t row = blockIdx.x;
  const int32_t target = targets[row];
  const bool bad = target != ignore && (target < 0 || target >= vocab);
  if (target == ignore || bad) {  // uniform over the block: no barrier is skipped
    if (threadIdx.x == 0) {
      row_loss[row] = 0.0;
      row_status[row] = bad ? kBadTarget : kIgnored;
      if (lse_out != nullptr) lse_out[row] = 0.0f;
    }
    return;
  }
  const T* x = logits + row * vocab;
  // Online softmax: s is Σ exp(x - m) over this thread's share, rescaled
  // whenever its running max m grows. arg is the first index of m: the thread
  // visits its packs, and the elements in a pack, in increasing index order.
  float m = -INFINITY, s = 0.0f, sum_x = 0.0f;
  int arg = INT_MAX;
  const int64_t packs = vocab / kVec;
#pragma unroll 2
  for (int64_t p = threadIdx.x; p < packs; p += blockDim.x) {
    float value[kVec];
    load_floats<T, kVec>(x + p * kVec, value);
    float pack_max = -INFINITY;
    int pack_arg = 0;
#pragma unroll
    for (int e = 0; e < kVec; ++e) {
      sum_x += value[e];
      if (value[e] > pack_max) {
        pack_max = value[e];
        pack_arg = e;
      }
    }
    // With m = -inf and s = 0 the rescale gives 0. A NaN logit is never a
    // max but turns s into NaN below, as in the scalar formulation.
    if (pack_max > m) {
      s *= expf(m - pack_max);
      m = pack_max;
      arg = static_cast<int>(p * kVec + pack_arg);
    }
#pragma unroll
    for (int e = 0; e < kVec; ++e)
      s += expf(value[e] - m);
  }
  const float row_max = block_max(m, scratch);
  const float total = block_sum(m == -INFINITY ? 0.0f : s * expf(m - row_max), scratch);
  const float lse = row_max + logf(total);
  const float row_sum = eps > 0.0f ? block_sum(sum_x, scratch) : 0.0f;
  const int argmax = count_correct ? block_min_int(m == row_max ? arg : INT_MAX, index_scratch) : 0;
  if (threadIdx.x == 0) {
    // (1-ε)(lse - x_t) + ε·mean_v(lse - x_v) = lse - (1-ε)x_t - ε·mean_v x_v
    double loss = static_cast<double>(lse) -
                  (1.0 - static_cast<double>(eps)) * static_cast<double>(to_float(x[target]));
    if (eps > 0.0f)
      loss -= static_cast<double>(eps) * static_cast<double>(row_sum) / static_cast<double>(vocab);
    row_loss[row] = loss;
    row_status[row] = count_correct && argmax == target ? kCountedCorrect : kCounted;
    if (lse_out != nullptr) lse_out[row] = lse;
  }
}

template <class V>
__device__ __forceinline__ V warp_sum_any(V v) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// One block of kFinishThreads: thread t takes rows t, t + 1024, ... in order,
// then warps and the 32 warp results are combined in a fixed order.
__global__ void finish_forward_kernel(const double* __restrict__ row_loss,
                                      const int32_t* __restrict__ row_status, int64_t rows,
                                      ForwardTotals* __restrict__ totals,
                                      float* __restrict__ loss) {
  __shared__ double loss_scratch[32];
  __shared__ long long count_scratch[32], correct_scratch[32], bad_scratch[32];
  double l = 0.0;
  long long count = 0, correct = 0, first_bad = LLONG_MAX;
  for (int64_t i = threadIdx.x; i < rows; i += blockDim.x) {
    const int32_t status = row_status[i];
    l += row_loss[i];
    count += status > 0 ? 1 : 0;
    correct += status == kCountedCorrect ? 1 : 0;
    if (status == kBadTarget && i < first_bad) first_bad = i;
  }
  l = warp_sum_any(l);
  count = warp_sum_any(count);
  correct = warp_sum_any(correct);
  for (int offset = 16; offset > 0; offset >>= 1)
    first_bad = min(first_bad, __shfl_xor_sync(0xffffffffu, first_bad, offset));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) {
    loss_scratch[warp] = l;
    count_scratch[warp] = count;
    correct_scratch[warp] = correct;
    bad_scratch[warp] = first_bad;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    ForwardTotals t{0.0, 0, 0, LLONG_MAX};
    for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) {
      t.loss_sum += loss_scratch[w];
      t.count += count_scratch[w];
      t.correct += correct_scratch[w];
      t.first_bad_row = min(t.first_bad_row, bad_scratch[w]);
    }
    if (t.first_bad_row == LLONG_MAX) t.first_bad_row = -1;
    *totals = t;
    if (loss != nullptr)
      *loss = t.count > 0 ? static_cast<float>(t.loss_sum / static_cast<double>(t.count)) : 0.0f;
  }
}

// kVec as for rows_forward_kernel; dlogits rows aligned like logits rows.
template <class T, int kVec>
__global__ void rows_backward_kernel(const T* __restrict__ logits,
                                     const int32_t* __restrict__ targets,
                                     const float* __restrict__ lse, int64_t vocab, int32_t ignore,
                                     float uniform, float scale, float target_mass,
                                     T* __restrict__ dlogits, bool accumulate) {
  const int64_t row = blockIdx.x;
  const int32_t target = targets[row];
  T* d = dlogits + row * vocab;
  const int64_t packs = vocab / kVec;
  if (target == ignore || target < 0 || target >= vocab) {
    if (!accumulate) {
      float zeros[kVec];
#pragma unroll
      for (int e = 0; e < kVec; ++e)
        zeros[e] = 0.0f;
      for (int64_t p = threadIdx.x; p < packs; p += blockDim.x)
        store_floats<T, kVec>(d + p * kVec, zeros);
    }
    return;
  }
  const T* x = logits + row * vocab;
  const float l = lse[row];
#pragma unroll 2
  for (int64_t p = threadIdx.x; p < packs; p += blockDim.x) {
    float value[kVec], previous[kVec];
    load_floats<T, kVec>(x + p * kVec, value);
    if (accumulate) load_floats<T, kVec>(d + p * kVec, previous);
#pragma unroll
    for (int e = 0; e < kVec; ++e) {
      float g = (expf(value[e] - l) - uniform) * scale;
      if (p * kVec + e == target) g -= target_mass;
      value[e] = accumulate ? previous[e] + g : g;
    }
    store_floats<T, kVec>(d + p * kVec, value);
  }
}

}  // namespace

CrossEntropyStats cross_entropy_forward(const char* op, const Tensor& logits, const Tensor& targets,
                                        const CrossEntropyOptions& options, const Tensor& lse,
                                        const Tensor& loss, bool count_correct) {
  const int64_t vocab = logits.dim(-1), rows = targets.numel();
  GRAFT_CHECK(vocab <= INT_MAX, op << ": V=" << vocab << " is too large for the CUDA kernels");
  Tensor row_loss = Tensor::empty({rows}, DType::f64, Device::cuda);
  Tensor row_status = Tensor::empty({rows}, DType::i32, Device::cuda);
  static_assert(sizeof(ForwardTotals) == 4 * sizeof(double));
  Tensor totals_buffer = Tensor::empty({4}, DType::f64, Device::cuda);
  auto* totals = static_cast<ForwardTotals*>(totals_buffer.raw_data());
  if (rows > 0) {
    GRAFT_CUDA_DISPATCH_FLOAT(logits.dtype(), op, [&] {
      auto kernel = rows_are_pack_aligned<scalar_t>(logits.raw_data(), vocab)
                        ? rows_forward_kernel<scalar_t, kPack16<scalar_t>>
                        : rows_forward_kernel<scalar_t, 1>;
      kernel<<<static_cast<unsigned>(rows), threads_for_vocab(vocab), 0, stream()>>>(
          static_cast<const scalar_t*>(logits.raw_data()), targets.data<int32_t>(), vocab,
          options.ignore_index, static_cast<float>(options.label_smoothing), count_correct,
          lse.defined() ? lse.data<float>() : nullptr, row_loss.data<double>(),
          row_status.data<int32_t>());
    });
    GRAFT_CUDA_CHECK_LAUNCH();
  } else {
    GRAFT_CUDA_DISPATCH_FLOAT(logits.dtype(), op, [] {});  // f64 is refused even when empty
  }
  finish_forward_kernel<<<1, kFinishThreads, 0, stream()>>>(
      rows > 0 ? row_loss.data<double>() : nullptr, rows > 0 ? row_status.data<int32_t>() : nullptr,
      rows, totals, loss.defined() ? loss.data<float>() : nullptr);
  GRAFT_CUDA_CHECK_LAUNCH();
  ForwardTotals host{};
  copy_bytes(&host, totals, sizeof(host));
  if (host.first_bad_row >= 0) {
    const int64_t i = host.first_bad_row;
    int32_t bad = 0;
    copy_bytes(&bad, targets.data<int32_t>() + i, sizeof(bad));
    GRAFT_CHECK(false, op << ": target " << bad << " at row " << i << " is outside [0, " << vocab
                          << ") and is not ignore_index " << options.ignore_index);
  }
  return {host.loss_sum, static_cast<int64_t>(host.count), static_cast<int64_t>(host.correct)};
}

void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse,
                            const CrossEntropyOptions& options, double scale,
                            const GradSlot& dlogits) {
  const int64_t vocab = logits.dim(-1), rows = targets.numel();
  const float uniform = static_cast<float>(options.label_smoothing / static_cast<double>(vocab));
  const float target_mass = static_cast<float>((1.0 - options.label_smoothing) * scale);
  GRAFT_CUDA_DISPATCH_FLOAT(logits.dtype(), "softmax_cross_entropy backward", [&] {
    if (rows == 0) return;
    const bool packed = rows_are_pack_aligned<scalar_t>(logits.raw_data(), vocab) &&
                        rows_are_pack_aligned<scalar_t>(dlogits.grad.raw_data(), vocab);
    auto kernel = packed ? rows_backward_kernel<scalar_t, kPack16<scalar_t>>
                         : rows_backward_kernel<scalar_t, 1>;
    kernel<<<static_cast<unsigned>(rows), threads_for_vocab(vocab), 0, stream()>>>(
        static_cast<const scalar_t*>(logits.raw_data()), targets.data<int32_t>(), lse.data<float>(),
        vocab, options.ignore_index, uniform, static_cast<float>(scale), target_mass,
        static_cast<scalar_t*>(dlogits.grad.raw_data()), dlogits.accumulate);
    GRAFT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace graft::cuda
