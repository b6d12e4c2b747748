// Host side of the CUDA attention: argument checks, the choice between the
// tensor-core kernels (attention_tensor_core.cu) and the general ones
// (attention_general.cu), and D = rowsum(dO * O) that both backward passes
// take instead of re-reducing dP * P.
#include <atomic>
#include <limits>

#include "ops/cuda/attention.h"
#include "ops/cuda/attention_common.cuh"
#include "ops/cuda/kernel_utils.cuh"
#include "ops/cuda/runtime.h"

namespace graft::cuda {

namespace attention_detail {

int max_dynamic_shared_bytes() {
  int device = 0, bytes = 0;
  GRAFT_CUDA_CHECK(cudaGetDevice(&device));
  GRAFT_CUDA_CHECK(cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  return bytes;
}

namespace {

constexpr const char* kOp = "scaled_dot_product_attention";
constexpr int kDeltaThreads = 256;

// delta[b, h, i] = sum_d dO[b, i, h, d] * O[b, i, h, d]: one warp per
// (batch, row, head), lanes over d in a fixed order.
template <class T>
__global__ void delta_kernel(Geometry g, const T* out, const T* dout, float* delta) {
  const int64_t rows = int64_t{g.batch} * g.q_len * g.heads;
  const int64_t warp = (int64_t{blockIdx.x} * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (warp >= rows) return;
  const int h = static_cast<int>(warp % g.heads);
  const int64_t bi = warp / g.heads;
  const int i = static_cast<int>(bi % g.q_len), b = static_cast<int>(bi / g.q_len);
  const int64_t base = warp * g.head_dim;
  float sum = 0.0f;
  for (int d = lane; d < g.head_dim; d += 32)
    sum += to_float(out[base + d]) * to_float(dout[base + d]);
  sum = warp_sum(sum);
  if (lane == 0) delta[g.stat_index(b, h, i)] = sum;
}

std::atomic<AttentionKernels> g_choice{AttentionKernels::automatic};

bool fits_int(int64_t v) {
  return v >= 0 && v <= std::numeric_limits<int>::max();
}

Geometry geometry_of(const AttentionShape& s, const Tensor& q, const Tensor& mask) {
  GRAFT_CHECK(q.dtype() == DType::f32 || q.dtype() == DType::bf16,
              kOp << ": CUDA kernels take f32 or bf16, not " << dtype_name(q.dtype()));
  GRAFT_CHECK(fits_int(s.batch) && fits_int(s.q_len) && fits_int(s.k_len) && fits_int(s.heads) &&
                  fits_int(s.head_dim),
              kOp << ": sizes beyond the int range are not supported on CUDA");
  GRAFT_CHECK(s.heads <= 65535 && s.batch <= 65535,
              kOp << ": CUDA grids take at most 65535 heads and batches, got " << s.heads << " and "
                  << s.batch);
  Geometry g;
  g.batch = static_cast<int>(s.batch);
  g.q_len = static_cast<int>(s.q_len);
  g.k_len = static_cast<int>(s.k_len);
  g.heads = static_cast<int>(s.heads);
  g.head_dim = static_cast<int>(s.head_dim);
  g.scale = static_cast<float>(s.scale);
  g.causal = s.causal;
  g.mask = mask.defined() ? mask.data<int32_t>() : nullptr;
  return g;
}

bool aligned16(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

bool device_has_bf16_mma() {
  int device = 0, major = 0;
  GRAFT_CUDA_CHECK(cudaGetDevice(&device));
  GRAFT_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  return major >= 8;
}

bool tensor_core_eligible(const AttentionShape& s, DType dtype) {
  return g_choice.load() == AttentionKernels::automatic && dtype == DType::bf16 &&
         (s.head_dim == 64 || s.head_dim == 128) && s.q_len > 0 && s.k_len > 0 &&
         device_has_bf16_mma();
}

}  // namespace
}  // namespace attention_detail

using namespace attention_detail;

void set_attention_kernels(AttentionKernels choice) {
  g_choice.store(choice);
}
AttentionKernels attention_kernels() {
  return g_choice.load();
}
bool attention_uses_tensor_cores(const AttentionShape& s, DType dtype) {
  return tensor_core_eligible(s, dtype);
}

void attention_forward(const AttentionShape& s, const Tensor& q, const Tensor& k, const Tensor& v,
                       const Tensor& mask, const Tensor& lse, const Tensor& out) {
  const Geometry g = geometry_of(s, q, mask);
  if (s.batch == 0 || s.q_len == 0 || s.heads == 0) return;
  float* lse_ptr = lse.defined() ? lse.data<float>() : nullptr;
  if (tensor_core_eligible(s, q.dtype()) && aligned16(q.raw_data()) && aligned16(k.raw_data()) &&
      aligned16(v.raw_data()) && aligned16(out.raw_data())) {
    tensor_core_forward(g, q.raw_data(), k.raw_data(), v.raw_data(), out.raw_data(), lse_ptr);
  } else {
    general_forward(g, q.dtype() == DType::bf16, q.raw_data(), k.raw_data(), v.raw_data(),
                    out.raw_data(), lse_ptr);
  }
}

void attention_backward(const AttentionShape& s, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& mask, const Tensor& out, const Tensor& lse,
                        const Tensor& dout, const GradSlot* dq, const GradSlot* dk,
                        const GradSlot* dv) {
  const Geometry g = geometry_of(s, q, mask);
  if (dq == nullptr && dk == nullptr && dv == nullptr) return;
  GRAFT_CHECK(lse.defined() && lse.dtype() == DType::f32,
              kOp << ": CUDA backward needs the forward's f32 logsumexp");
  auto slot = [](const GradSlot* s) {
    return s == nullptr ? GradOut{} : GradOut{s->grad.raw_data(), s->accumulate};
  };
  // Empty operands: nothing to read; a fresh slot still has to hold zeros.
  if (s.batch == 0 || s.heads == 0 || s.q_len == 0 || s.k_len == 0) {
    for (const GradSlot* gs : {dq, dk, dv})
      if (gs != nullptr && !gs->accumulate && gs->grad.numel() > 0) gs->grad.fill(0.0);
    return;
  }
  Tensor delta = Tensor::empty({s.batch, s.heads, s.q_len}, DType::f32, Device::cuda);
  const int64_t rows = s.batch * s.q_len * s.heads;
  const unsigned blocks = static_cast<unsigned>((rows * 32 + kDeltaThreads - 1) / kDeltaThreads);
  GRAFT_CUDA_DISPATCH_FLOAT(q.dtype(), kOp, [&] {
    delta_kernel<<<blocks, kDeltaThreads, 0, stream()>>>(
        g, static_cast<const scalar_t*>(out.raw_data()),
        static_cast<const scalar_t*>(dout.raw_data()), delta.data<float>());
  });
  GRAFT_CUDA_CHECK_LAUNCH();
  const bool aligned = aligned16(q.raw_data()) && aligned16(k.raw_data()) &&
                       aligned16(v.raw_data()) && aligned16(dout.raw_data());
  if (tensor_core_eligible(s, q.dtype()) && aligned) {
    tensor_core_backward(g, q.raw_data(), k.raw_data(), v.raw_data(), dout.raw_data(),
                         lse.data<float>(), delta.data<float>(), slot(dq), slot(dk), slot(dv));
  } else {
    general_backward(g, q.dtype() == DType::bf16, q.raw_data(), k.raw_data(), v.raw_data(),
                     dout.raw_data(), lse.data<float>(), delta.data<float>(), slot(dq), slot(dk),
                     slot(dv));
  }
}

}  // namespace graft::cuda
