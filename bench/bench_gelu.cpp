// Workbench for the GELU epilogue: the libm tanh version against the
// vectorisable tanh_fast one, each checked against a double reference before
// timing. Shape: the FFN-up activation of a 384-wide model, 2048 x 1536.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "ops/cpu/gelu_math.h"

namespace {

constexpr int64_t kElements = 2048 * 1536;

float gelu_libm(float x) {
  const float c = 0.7978845608028654f;
  return 0.5f * x * (1.0f + std::tanh(c * (x + 0.044715f * x * x * x)));
}

std::vector<float> inputs() {
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> x(kElements);
  for (float& v : x)
    v = dist(rng);
  return x;
}

// Largest |f(x) - reference(x)| over the inputs.
template <class Fn, class Reference>
double max_error(Fn fn, Reference reference, const std::vector<float>& x) {
  double worst = 0;
  for (float v : x) {
    worst =
        std::max(worst, std::fabs(static_cast<double>(fn(v)) - reference(static_cast<double>(v))));
  }
  return worst;
}

double gelu_reference(double v) {
  return graft::cpu::gelu_value(v);
}
double derivative_reference(double v) {
  return graft::cpu::gelu_derivative(v);
}

template <class Fn>
void run(benchmark::State& state, Fn fn, double (*reference)(double), const char* name) {
  std::vector<float> x = inputs(), y(kElements);
  static bool reported = false;  // once per version (each Fn is its own instantiation)
  if (!reported) {
    reported = true;
    std::printf("%s: max |error| vs double reference = %.3g\n", name, max_error(fn, reference, x));
  }
  for (auto _ : state) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < kElements; ++i)
      y[i] = fn(x[i]);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["Gelem/s"] = benchmark::Counter(static_cast<double>(kElements),
                                                 benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

void BM_GeluLibmTanh(benchmark::State& state) {
  run(state, gelu_libm, gelu_reference, "libm tanh");
}
void BM_GeluFastTanh(benchmark::State& state) {
  auto fast = [](float v) { return graft::cpu::gelu_value(v); };
  run(state, fast, gelu_reference, "tanh_fast");
}
void BM_GeluDerivativeFastTanh(benchmark::State& state) {
  auto fast = [](float v) { return graft::cpu::gelu_derivative(v); };
  run(state, fast, derivative_reference, "tanh_fast derivative");
}

BENCHMARK(BM_GeluLibmTanh)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GeluFastTanh)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GeluDerivativeFastTanh)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
