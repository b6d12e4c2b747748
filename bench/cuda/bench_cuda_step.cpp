// bench_cuda_step: one full training step of GPT-2 124M (B x T = 16 x 1024,
// bf16 mixed precision: bf16 weights, activations and gradients, f32 master
// weights and AdamW moments) through graft's Trainer on the GPU, timed next to
// the measured bf16 GEMM peak of the same run, so MFU is a ratio of two
// numbers taken together.
//
//   peak/bf16_gemm_8192   graft::matmul (cuBLASLt) 8192^3 bf16: the MFU
//                         denominator (what one large GEMM reaches here)
//   step/gpt2_124m/<dtype> Trainer::train_step, synchronised; counters
//                         tokens/s, model TFLOP/s (the ledger's matmul +
//                         attention FLOPs, forward and backward) and MFU
//
// MFU counts model FLOPs only (model/flops.h's formulas, which the ledger
// matches exactly; norms, softmax and GELU are left out), as the papers do.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>

#include "bench/step_setup.h"
#include "ops/cuda/backend.h"
#include "ops/flops.h"
#include "ops/matmul.h"
#include "train/trainer.h"

namespace graft::bench {
namespace {

double g_peak_flops = 0;  // best bf16 GEMM FLOP/s seen in this run

double timed(const std::function<void()>& f) {
  cuda::synchronize();
  const auto start = std::chrono::steady_clock::now();
  f();
  cuda::synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Tensor random_gpu(const Shape& shape, DType dtype, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> pick(-1.0f, 1.0f);
  std::vector<float> values(static_cast<size_t>(shape_numel(shape)));
  for (float& v : values)
    v = pick(rng);
  return Tensor::from_vector(values, shape).to(Device::cuda).to(dtype);
}

void peak_bf16_gemm(benchmark::State& state) {
  const int64_t n = 8192;
  const Tensor a = random_gpu({n, n}, DType::bf16, 1), b = random_gpu({n, n}, DType::bf16, 2);
  matmul(a, b);  // handle, workspace and heuristic out of the timing
  const double flops = 2.0 * n * n * n;
  for (auto _ : state) {
    const double seconds = timed([&] {
                             for (int i = 0; i < 10; ++i)
                               matmul(a, b);
                           }) /
                           10;
    state.SetIterationTime(seconds);
    g_peak_flops = std::max(g_peak_flops, flops / seconds);
  }
  state.counters["TFLOP/s"] = benchmark::Counter(
      flops * static_cast<double>(state.iterations()) / 1e12, benchmark::Counter::kIsRate);
}

StepConfig gpt2_124m() {
  StepConfig c{"gpt2_124m", model_preset(ModelKind::decoder, "small"), 16, 0, 1024};
  c.model.vocab_size = 50304;  // GPT-2's 50257 padded to a multiple of 128
  c.model.d_model = 768;
  c.model.num_heads = 12;
  c.model.d_ff = 3072;
  c.model.decoder_layers = 12;
  c.model.max_positions = 1024;
  c.model.dropout = 0.0;
  return c;
}

void step(benchmark::State& state, DType dtype) {
  const StepConfig c = gpt2_124m();
  std::unique_ptr<Model> model = make_model(c.model, 1, DType::f32);
  model->place(Device::cuda, dtype);
  const TokenPredictionTask task(TokenPredictionTask::Head::lm);
  TrainerOptions options;
  options.schedule.peak_lr = 6e-4;
  options.schedule.total_steps = 1000000;
  options.schedule.warmup_steps = 10;
  Trainer trainer(*model, task, options);
  // A host batch, as loaders make them: each step uploads it (128 KiB).
  const std::vector<Batch> batch = {random_batch(c, 7)};
  trainer.train_step(batch);  // allocator cache, cuBLASLt heuristics: out of the timing
  const FlopsLedger before = flops_ledger();
  trainer.train_step(batch);
  const FlopsLedger after = flops_ledger();
  const double model_flops = (after.forward().matmul - before.forward().matmul) +
                             (after.forward().attention - before.forward().attention) +
                             (after.backward().matmul - before.backward().matmul) +
                             (after.backward().attention - before.backward().attention);
  double loss = 0;
  for (auto _ : state) {
    state.SetIterationTime(timed([&] { loss = trainer.train_step(batch).loss; }));
  }
  const double iterations = static_cast<double>(state.iterations());
  state.counters["tokens/s"] = benchmark::Counter(
      static_cast<double>(c.tokens_per_step()) * iterations, benchmark::Counter::kIsRate);
  state.counters["TFLOP/s"] =
      benchmark::Counter(model_flops * iterations / 1e12, benchmark::Counter::kIsRate);
  state.counters["MFU"] = benchmark::Counter(
      g_peak_flops > 0 ? model_flops * iterations / g_peak_flops : 0, benchmark::Counter::kIsRate);
  state.counters["loss"] = loss;
  state.counters["peak_GiB"] =
      static_cast<double>(cuda::allocator_stats().peak_in_use_bytes) / (1 << 30);
}

}  // namespace
}  // namespace graft::bench

int main(int argc, char** argv) {
  if (!graft::cuda::available()) {
    std::printf("bench_cuda_step: skipped: %s\n", graft::cuda::unavailable_reason().c_str());
    return 0;
  }
  using graft::bench::step;
  benchmark::RegisterBenchmark("peak/bf16_gemm_8192", graft::bench::peak_bf16_gemm)
      ->UseManualTime()
      ->Iterations(5)
      ->Repetitions(3)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("step/gpt2_124m/bf16", step, graft::DType::bf16)
      ->UseManualTime()
      ->Iterations(10)
      ->Repetitions(3)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("step/gpt2_124m/f32", step, graft::DType::f32)
      ->UseManualTime()
      ->Iterations(3)
      ->Repetitions(1)
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
