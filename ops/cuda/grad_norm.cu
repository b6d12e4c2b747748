// The global gradient norm and clipping on the GPU, as multi-tensor launches
// (ops/cuda/multi_tensor.cuh): one launch for the whole gradient list instead
// of one reduction, and one host sync, per tensor.
//
// Sum of squares: each fixed chunk of kChunk elements (chunks never straddle
// tensors) gets one partial in double from one block, in a fixed order
// (thread-strided sums, a fixed shuffle tree, warps in order); a single block
// then adds the partials in a fixed order. The partials depend on the tensor
// sizes only, never on the grid or timing: reruns are bit-identical.
#include "ops/cuda/grad_norm.h"
#include "ops/cuda/multi_tensor.cuh"

namespace graft::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kFinalThreads = 1024;
constexpr int64_t kChunk = 8192;

struct ListDescriptor {
  void* data;
  int64_t numel;
  int64_t first_chunk;
  int is_bf16;
};

__device__ __forceinline__ float load_element(const ListDescriptor& d, int64_t i) {
  return d.is_bf16 ? to_float(static_cast<const __nv_bfloat16*>(d.data)[i])
                   : static_cast<const float*>(d.data)[i];
}

__device__ __forceinline__ double warp_sum_double(double v) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__global__ void squares_partial_kernel(const ListDescriptor* descriptors, int count,
                                       int64_t total_chunks, double* partial) {
  __shared__ double warp_totals[kThreads / 32];
  for (int64_t chunk = blockIdx.x; chunk < total_chunks; chunk += gridDim.x) {
    const ListDescriptor d = descriptors[descriptor_of_chunk(descriptors, count, chunk)];
    const int64_t begin = (chunk - d.first_chunk) * kChunk;
    const int64_t end = begin + kChunk < d.numel ? begin + kChunk : d.numel;
    double sum = 0.0;
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      const double x = load_element(d, i);
      sum += x * x;
    }
    sum = warp_sum_double(sum);
    __syncthreads();  // the previous chunk's totals have been read
    if ((threadIdx.x & 31) == 0) warp_totals[threadIdx.x >> 5] = sum;
    __syncthreads();
    if (threadIdx.x == 0) {
      double total = 0.0;
      for (int w = 0; w < kThreads / 32; ++w)
        total += warp_totals[w];
      partial[chunk] = total;
    }
  }
}

// One block of kFinalThreads: strided sums in index order, then a fixed tree.
__global__ void sum_partials_kernel(const double* partial, int64_t count, double* out) {
  __shared__ double sums[kFinalThreads];
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += kFinalThreads)
    sum += partial[i];
  sums[threadIdx.x] = sum;
  __syncthreads();
  for (int stride = kFinalThreads / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) sums[threadIdx.x] += sums[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) *out = sums[0];
}

__global__ void scale_list_kernel(const ListDescriptor* descriptors, int count,
                                  int64_t total_chunks, float factor) {
  for (int64_t chunk = blockIdx.x; chunk < total_chunks; chunk += gridDim.x) {
    const ListDescriptor d = descriptors[descriptor_of_chunk(descriptors, count, chunk)];
    const int64_t begin = (chunk - d.first_chunk) * kChunk;
    const int64_t end = begin + kChunk < d.numel ? begin + kChunk : d.numel;
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      if (d.is_bf16) {
        auto* x = static_cast<__nv_bfloat16*>(d.data);
        x[i] = __float2bfloat16_rn(factor * __bfloat162float(x[i]));
      } else {
        auto* x = static_cast<float*>(d.data);
        x[i] = factor * x[i];
      }
    }
  }
}

// Descriptors of the defined, non-empty tensors; total_chunks gets their count.
std::vector<ListDescriptor> describe(const std::vector<Tensor>& tensors, int64_t& total_chunks) {
  std::vector<ListDescriptor> descriptors;
  total_chunks = 0;
  for (const Tensor& t : tensors) {
    if (!t.defined() || t.numel() == 0) continue;
    GRAFT_CHECK(t.device() == Device::cuda && (t.dtype() == DType::f32 || t.dtype() == DType::bf16),
                "multi-tensor kernels take f32/bf16 CUDA tensors, got " << t.describe());
    descriptors.push_back({t.raw_data(), t.numel(), total_chunks, t.dtype() == DType::bf16});
    total_chunks += chunks_for(t.numel(), kChunk);
  }
  return descriptors;
}

}  // namespace

double sum_of_squares(const std::vector<Tensor>& tensors) {
  int64_t total_chunks = 0;
  const std::vector<ListDescriptor> descriptors = describe(tensors, total_chunks);
  if (descriptors.empty()) return 0.0;
  const Tensor device_descriptors = upload_descriptors(descriptors);
  Tensor partial = Tensor::empty({total_chunks + 1}, DType::f64, Device::cuda);
  double* p = partial.data<double>();
  squares_partial_kernel<<<blocks_for_chunks(total_chunks), kThreads, 0, stream()>>>(
      reinterpret_cast<const ListDescriptor*>(device_descriptors.raw_data()),
      static_cast<int>(descriptors.size()), total_chunks, p);
  GRAFT_CUDA_CHECK_LAUNCH();
  sum_partials_kernel<<<1, kFinalThreads, 0, stream()>>>(p, total_chunks, p + total_chunks);
  GRAFT_CUDA_CHECK_LAUNCH();
  double result = 0.0;
  copy_bytes(&result, p + total_chunks, sizeof(double));
  return result;
}

void scale_all(const std::vector<Tensor>& tensors, double factor) {
  int64_t total_chunks = 0;
  const std::vector<ListDescriptor> descriptors = describe(tensors, total_chunks);
  if (descriptors.empty()) return;
  const Tensor device_descriptors = upload_descriptors(descriptors);
  scale_list_kernel<<<blocks_for_chunks(total_chunks), kThreads, 0, stream()>>>(
      reinterpret_cast<const ListDescriptor*>(device_descriptors.raw_data()),
      static_cast<int>(descriptors.size()), total_chunks, static_cast<float>(factor));
  GRAFT_CUDA_CHECK_LAUNCH();
}

}  // namespace graft::cuda
