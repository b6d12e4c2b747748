// bench_cuda_rows: the memory-bound row kernels on the GPU at GPT-2 124M
// shapes in bf16 (16 x 1024 = 16384 rows): layer_norm over d = 768 and
// softmax cross-entropy over the padded vocabulary V = 50304, forward alone
// and forward + backward through the tape.
//
// Timing is manual (cudaEvents on the compute stream around each iteration),
// so the host's launch overhead inside an iteration counts but nothing outside
// it does. Gradients are dropped before each iteration (outside the timed
// region), so backward overwrites rather than accumulates. GB/s counts the
// bytes the ops must move at least: layer_norm forward reads x and writes out,
// backward reads x and dout and writes dx; cross-entropy forward reads the
// logits, backward reads them again and writes dlogits (per-row statistics,
// weights and the upstream gradient's own copy are not counted).
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <cstdio>
#include <functional>
#include <random>

#include "bench/cuda/event_timer.h"
#include "ops/autograd.h"
#include "ops/cross_entropy.h"
#include "ops/cuda/backend.h"
#include "ops/cuda/runtime.h"
#include "ops/layer_norm.h"
#include "ops/tensor.h"

namespace {

using graft::Device;
using graft::DType;
using graft::Tensor;

constexpr int64_t kRows = 16 * 1024, kModel = 768, kVocab = 50304;
constexpr double kBf16Bytes = 2.0;

Tensor random_bf16(const graft::Shape& shape, uint64_t seed, float lo, float hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = dist(rng);
  return t.to(DType::bf16).to(Device::cuda);
}

// Times `once` per iteration with cudaEvents; `reset` runs untimed before it.
void time_iterations(benchmark::State& state, const std::function<void()>& once,
                     const std::function<void()>& reset, double bytes) {
  reset();
  once();  // warm-up: allocator cache
  graft::cuda::synchronize();
  graft::bench::EventTimer timer;
  double total_seconds = 0;
  for (auto _ : state) {
    reset();
    timer.start();
    once();
    const double seconds = timer.stop_seconds();
    state.SetIterationTime(seconds);
    total_seconds += seconds;
  }
  const double iterations = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9 * iterations / total_seconds);
  state.counters["ms"] = benchmark::Counter(1e3 * total_seconds / iterations);
}

bool skip_without_gpu(benchmark::State& state) {
  if (graft::cuda::available()) return false;
  state.SkipWithError(("no GPU: " + graft::cuda::unavailable_reason()).c_str());
  return true;
}

void run_layer_norm(benchmark::State& state, bool with_backward) {
  if (skip_without_gpu(state)) return;
  Tensor x = random_bf16({kRows, kModel}, 1, -2.0f, 2.0f);
  Tensor weight = random_bf16({kModel}, 2, 0.5f, 1.5f);
  Tensor bias = random_bf16({kModel}, 3, -0.5f, 0.5f);
  Tensor upstream = random_bf16({kRows, kModel}, 4, -1.0f, 1.0f);
  if (with_backward) {
    x.set_requires_grad();
    weight.set_requires_grad();
    bias.set_requires_grad();
  }
  auto once = [&] {
    Tensor out = graft::layer_norm(x, weight, bias);
    if (with_backward) graft::tape().backward(out, upstream);
  };
  auto reset = [&] {
    x.zero_grad();
    weight.zero_grad();
    bias.zero_grad();
  };
  const double tensor_bytes = static_cast<double>(kRows * kModel) * kBf16Bytes;
  time_iterations(state, once, reset, (with_backward ? 5.0 : 2.0) * tensor_bytes);
}

void run_cross_entropy(benchmark::State& state, bool with_backward) {
  if (skip_without_gpu(state)) return;
  Tensor logits = random_bf16({kRows, kVocab}, 5, -4.0f, 4.0f);
  Tensor targets = Tensor::empty({kRows}, DType::i32);
  std::mt19937_64 rng(6);
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(kVocab - 1));
  for (int64_t i = 0; i < kRows; ++i)
    targets.data<int32_t>()[i] = pick(rng);
  targets = targets.to(Device::cuda);
  if (with_backward) logits.set_requires_grad();
  auto once = [&] {
    Tensor loss = graft::softmax_cross_entropy(logits, targets);
    if (with_backward) graft::tape().backward(loss);
  };
  auto reset = [&] { logits.zero_grad(); };
  const double logits_bytes = static_cast<double>(kRows * kVocab) * kBf16Bytes;
  time_iterations(state, once, reset, (with_backward ? 3.0 : 1.0) * logits_bytes);
}

void BM_layer_norm_forward(benchmark::State& s) {
  run_layer_norm(s, false);
}
void BM_layer_norm_forward_backward(benchmark::State& s) {
  run_layer_norm(s, true);
}
void BM_cross_entropy_forward(benchmark::State& s) {
  run_cross_entropy(s, false);
}
void BM_cross_entropy_forward_backward(benchmark::State& s) {
  run_cross_entropy(s, true);
}

BENCHMARK(BM_layer_norm_forward)
    ->Name("layer_norm/16384x768/fwd")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_layer_norm_forward_backward)
    ->Name("layer_norm/16384x768/fwd_bwd")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_cross_entropy_forward)
    ->Name("cross_entropy/16384x50304/fwd")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_cross_entropy_forward_backward)
    ->Name("cross_entropy/16384x50304/fwd_bwd")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
