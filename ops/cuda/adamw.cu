// AdamW on the GPU as one multi-tensor launch (ops/cuda/multi_tensor.cuh).
//
// Each tensor's descriptor carries its pointers and its own scalars, computed
// on the host in double and rounded to f32 exactly as ops/cpu/adamw.cpp does
// (decay = 1 - lr·wd, step_size = lr / (1 - b1^step), 1/sqrt(1 - b2^step)),
// so the per-element f32 arithmetic is the CPU's. With a master the update
// runs on the f32 master and the bf16 param receives its round-to-nearest-even
// copy; without one the f32 param is updated in place. Element-wise, so the
// chunking cannot change the result.
#include <cmath>

#include "ops/cuda/adamw.h"
#include "ops/cuda/multi_tensor.cuh"

namespace graft::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int64_t kChunk = 4096;  // elements per block iteration

struct AdamWDescriptor {
  void* param;       // f32, or bf16 when master is set
  const void* grad;  // f32, or bf16 when grad_is_bf16
  float* m;
  float* v;
  float* master;  // null: no master
  int64_t numel;
  int64_t first_chunk;
  float decay, step_size, inv_sqrt_bc2;
  int grad_is_bf16;
};

struct Betas {
  float b1, b2, c1, c2, eps;
};

__global__ void adamw_multi_kernel(const AdamWDescriptor* descriptors, int count,
                                   int64_t total_chunks, Betas o) {
  for (int64_t chunk = blockIdx.x; chunk < total_chunks; chunk += gridDim.x) {
    const AdamWDescriptor d = descriptors[descriptor_of_chunk(descriptors, count, chunk)];
    const int64_t begin = (chunk - d.first_chunk) * kChunk;
    const int64_t end = begin + kChunk < d.numel ? begin + kChunk : d.numel;
    float* p = d.master != nullptr ? d.master : static_cast<float*>(d.param);
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      const float g = d.grad_is_bf16 ? to_float(static_cast<const __nv_bfloat16*>(d.grad)[i])
                                     : static_cast<const float*>(d.grad)[i];
      const float mi = o.b1 * d.m[i] + o.c1 * g;
      const float vi = o.b2 * d.v[i] + o.c2 * g * g;
      d.m[i] = mi;
      d.v[i] = vi;
      const float pi = p[i] * d.decay - d.step_size * mi / (sqrtf(vi) * d.inv_sqrt_bc2 + o.eps);
      p[i] = pi;
      if (d.master != nullptr) static_cast<__nv_bfloat16*>(d.param)[i] = __float2bfloat16_rn(pi);
    }
  }
}

}  // namespace

void adamw_multi_step(const std::vector<AdamWTensor>& tensors, double lr,
                      const AdamWOptions& options) {
  std::vector<AdamWDescriptor> descriptors;
  descriptors.reserve(tensors.size());
  int64_t total_chunks = 0;
  for (const AdamWTensor& t : tensors) {
    const int64_t n = t.param.numel();
    if (n == 0) continue;
    const double s = static_cast<double>(t.step);
    AdamWDescriptor d{};
    d.param = t.param.raw_data();
    d.grad = t.grad.raw_data();
    d.m = t.m.data<float>();
    d.v = t.v.data<float>();
    d.master = t.master.defined() ? t.master.data<float>() : nullptr;
    d.numel = n;
    d.first_chunk = total_chunks;
    d.decay = static_cast<float>(1.0 - lr * t.weight_decay);
    d.step_size = static_cast<float>(lr / (1.0 - std::pow(options.beta1, s)));
    d.inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(options.beta2, s)));
    d.grad_is_bf16 = t.grad.dtype() == DType::bf16;
    descriptors.push_back(d);
    total_chunks += chunks_for(n, kChunk);
  }
  if (descriptors.empty()) return;
  const Betas betas{static_cast<float>(options.beta1), static_cast<float>(options.beta2),
                    static_cast<float>(1.0 - options.beta1),
                    static_cast<float>(1.0 - options.beta2), static_cast<float>(options.eps)};
  const Tensor device_descriptors = upload_descriptors(descriptors);
  adamw_multi_kernel<<<blocks_for_chunks(total_chunks), kThreads, 0, stream()>>>(
      reinterpret_cast<const AdamWDescriptor*>(device_descriptors.raw_data()),
      static_cast<int>(descriptors.size()), total_chunks, betas);
  GRAFT_CUDA_CHECK_LAUNCH();
}

}  // namespace graft::cuda
