// bench_cuda_attention: scaled_dot_product_attention on the GPU at the GPT-2
// 124M shape (B=16, H=12, T=1024, head_dim 64, causal, bf16), the general
// kernels next to the tensor-core kernels, forward alone and forward +
// backward through the tape.
//
// Timing is manual (cudaEvents on the compute stream around each iteration),
// so the host's launch overhead inside an iteration counts but nothing
// outside it does. TFLOP/s uses the FLOPs ledger's attention count, which
// books the full Tq x Tk products even when causal (the CPU kernel's work):
// 4*B*H*T^2*Dh forward, 8*B*H*T^2*Dh more for backward. The kernels skip the
// masked half, so the work they execute is about half of that.
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <cstdio>
#include <random>

#include "bench/cuda/event_timer.h"
#include "ops/attention.h"
#include "ops/autograd.h"
#include "ops/cuda/attention.h"
#include "ops/cuda/backend.h"
#include "ops/cuda/runtime.h"
#include "ops/flops.h"
#include "ops/tensor.h"

namespace {

using graft::Device;
using graft::DType;
using graft::Tensor;

constexpr int64_t kBatch = 16, kHeads = 12, kLen = 1024, kHeadDim = 64;

Tensor random_bf16(const graft::Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = dist(rng);
  return t.to(DType::bf16).to(Device::cuda);
}

void run_attention(benchmark::State& state, graft::cuda::AttentionKernels kernels,
                   bool with_backward) {
  if (!graft::cuda::available()) {
    state.SkipWithError(("no GPU: " + graft::cuda::unavailable_reason()).c_str());
    return;
  }
  graft::cuda::set_attention_kernels(kernels);
  const int64_t e = kHeads * kHeadDim;
  Tensor q = random_bf16({kBatch, kLen, e}, 1), k = random_bf16({kBatch, kLen, e}, 2);
  Tensor v = random_bf16({kBatch, kLen, e}, 3), upstream = random_bf16({kBatch, kLen, e}, 4);
  if (with_backward) {
    q.set_requires_grad();
    k.set_requires_grad();
    v.set_requires_grad();
  }
  graft::AttentionOptions options;
  options.num_heads = kHeads;
  options.causal = true;
  auto once = [&] {
    Tensor out = graft::scaled_dot_product_attention(q, k, v, options);
    if (with_backward) graft::tape().backward(out, upstream);
  };
  once();  // warm-up: allocator cache, shared-memory attributes
  graft::cuda::synchronize();
  graft::flops_ledger().reset();
  once();
  const double flops =
      graft::flops_ledger().forward().attention + graft::flops_ledger().backward().attention;
  graft::bench::EventTimer timer;
  double total_seconds = 0;
  for (auto _ : state) {
    timer.start();
    once();
    const double seconds = timer.stop_seconds();
    state.SetIterationTime(seconds);
    total_seconds += seconds;
  }
  state.counters["TFLOP/s"] =
      benchmark::Counter(flops * 1e-12 * static_cast<double>(state.iterations()) / total_seconds);
  state.counters["ms"] =
      benchmark::Counter(1e3 * total_seconds / static_cast<double>(state.iterations()));
  graft::cuda::set_attention_kernels(graft::cuda::AttentionKernels::automatic);
}

void BM_general_forward(benchmark::State& s) {
  run_attention(s, graft::cuda::AttentionKernels::general, false);
}
void BM_general_forward_backward(benchmark::State& s) {
  run_attention(s, graft::cuda::AttentionKernels::general, true);
}
void BM_tensor_core_forward(benchmark::State& s) {
  run_attention(s, graft::cuda::AttentionKernels::automatic, false);
}
void BM_tensor_core_forward_backward(benchmark::State& s) {
  run_attention(s, graft::cuda::AttentionKernels::automatic, true);
}

BENCHMARK(BM_general_forward)
    ->Name("attention/gpt2/general/fwd")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_general_forward_backward)
    ->Name("attention/gpt2/general/fwd_bwd")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tensor_core_forward)
    ->Name("attention/gpt2/tensor_core/fwd")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tensor_core_forward_backward)
    ->Name("attention/gpt2/tensor_core/fwd_bwd")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
