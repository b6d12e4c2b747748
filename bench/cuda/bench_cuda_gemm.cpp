// bench_cuda_gemm: graft's CUDA linear (cuBLASLt with fused bias / GELU /
// bias-gradient epilogues, ops/cuda/matmul.cu) on the GPT-2 124M GEMMs at
// B*T = 16384 tokens in bf16, next to
//   cublaslt_best: the fastest of cuBLASLt's top-8 heuristic algorithms for
//     the same plain GEMMs (forward NT; backward dX NN and dW TN), each
//     candidate timed and the best kept, and
//   peak: the same search on a square 8192^3 bf16 GEMM, the measured peak.
// Counters: TFLOP/s (FLOPs over the GPU time between cudaEvents on graft's
// stream), and on graft's rows best_TFLOP/s, graft/best and graft/peak.
// Operands are rotated through enough copies to cover twice the 50 MB L2
// when one call's working set would fit in it. Run on a GPU:
//   bench/bench_cuda_gemm --benchmark_repetitions=5
// The table after the run gives medians over the repetitions.
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "bench/cuda/event_timer.h"
#include "ops/autograd.h"
#include "ops/cuda/backend.h"
#include "ops/cuda/cublaslt.h"
#include "ops/flops.h"
#include "ops/matmul.h"
#include "ops/tensor.h"

namespace {

using namespace graft;

constexpr int64_t kTokens = 16384;  // B * T
constexpr size_t kL2Bytes = size_t{50} << 20;
constexpr int kCandidates = 8;       // heuristic results tried for "cuBLASLt best"
constexpr int kCallsPerSample = 10;  // calls between two events: short GEMMs need several
constexpr int kSamplesPerCandidate = 15;
constexpr int64_t kPeakSize = 8192;

struct LinearShape {
  const char* name;
  int64_t in, out;
  bool gelu, bias;
};

// GPT-2 124M (d = 768, vocabulary padded to 50304 as llm.c does).
const LinearShape kShapes[] = {{"qkv", 768, 2304, false, true},
                               {"attn_proj", 768, 768, false, true},
                               {"fc", 768, 3072, true, true},
                               {"fc_proj", 3072, 768, false, true},
                               {"lm_head", 768, 50304, false, false}};

// Copies of the operands to cycle through: one when a call's working set
// already overflows L2, else enough to cover twice its size.
int rotation_count(double working_set_bytes) {
  if (working_set_bytes >= 2.0 * kL2Bytes) return 1;
  const int copies = static_cast<int>(2.0 * kL2Bytes / working_set_bytes) + 1;
  return std::min(copies, 16);
}

// Random bf16 values in [-scale, scale] on the GPU (random rather than
// constant: the GPU's clocks depend on the data's switching activity).
Tensor random_bf16(const Shape& shape, double scale, std::mt19937_64& rng) {
  Tensor host = Tensor::empty(shape, DType::f32);
  std::uniform_real_distribution<float> uniform(-static_cast<float>(scale),
                                                static_cast<float>(scale));
  float* p = host.data<float>();
  for (int64_t i = 0; i < host.numel(); ++i)
    p[i] = uniform(rng);
  return host.to(DType::bf16).to(Device::cuda);
}

// A row-major bf16 GEMM C[rows, cols] = op(P) op(Q) as cuBLASLt sees it
// (swapped operands, ops/cuda/matmul.cu).
cuda::LtGemm row_major_gemm(bool trans_p, bool trans_q, int64_t rows, int64_t cols, int64_t inner,
                            const Tensor& p, const Tensor& q, const Tensor& c) {
  cuda::LtGemm g;
  g.type = CUDA_R_16BF;
  g.trans_a = trans_q;
  g.trans_b = trans_p;
  g.m = cols;
  g.n = rows;
  g.k = inner;
  g.a = q.raw_data();
  g.lda = trans_q ? inner : cols;
  g.b = p.raw_data();
  g.ldb = trans_p ? rows : inner;
  g.d = c.raw_data();
  g.ldd = cols;
  return g;
}

// One plain GEMM with its operands rotated: a runner per copy.
struct RotatedGemm {
  std::vector<Tensor> keep;  // the operands the runners point into
  std::vector<std::unique_ptr<cuda::LtGemmRunner>> runners;
  double flops = 0;
};

// Shapes of the three GEMMs of a linear layer x[M,K] @ W[N,K]^T.
enum class Pass { forward, grad_input, grad_weight };

RotatedGemm make_gemm(Pass pass, int64_t m, int64_t n, int64_t k, std::mt19937_64& rng) {
  RotatedGemm r;
  r.flops = gemm_flops(m, n, k);
  const double bytes =
      2.0 * (static_cast<double>(m) * k + static_cast<double>(n) * k + static_cast<double>(m) * n);
  const int copies = rotation_count(bytes);
  for (int c = 0; c < copies; ++c) {
    Tensor x = pass != Pass::grad_input ? random_bf16({m, k}, 1.0, rng) : Tensor();
    Tensor w = pass != Pass::grad_weight ? random_bf16({n, k}, 0.05, rng) : Tensor();
    Tensor dy = pass != Pass::forward ? random_bf16({m, n}, 1.0, rng) : Tensor();
    Tensor out;
    cuda::LtGemm g;
    switch (pass) {
      case Pass::forward:  // y[M,N] = x W^T
        out = Tensor::empty({m, n}, DType::bf16, Device::cuda);
        g = row_major_gemm(false, true, m, n, k, x, w, out);
        break;
      case Pass::grad_input:  // dx[M,K] = dy W
        out = Tensor::empty({m, k}, DType::bf16, Device::cuda);
        g = row_major_gemm(false, false, m, k, n, dy, w, out);
        break;
      case Pass::grad_weight:  // dW[N,K] = dy^T x
        out = Tensor::empty({n, k}, DType::bf16, Device::cuda);
        g = row_major_gemm(true, false, n, k, m, dy, x, out);
        break;
    }
    r.keep.insert(r.keep.end(), {x, w, dy, out});
    r.runners.push_back(std::make_unique<cuda::LtGemmRunner>(g));
  }
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

// Seconds per call of kCallsPerSample calls with algo, cycling through the copies.
double time_calls(const RotatedGemm& r, const cublasLtMatmulAlgo_t& algo, size_t& next) {
  bench::EventTimer timer;
  timer.start();
  for (int i = 0; i < kCallsPerSample; ++i)
    r.runners[next++ % r.runners.size()]->run(algo);
  return timer.stop_seconds() / kCallsPerSample;
}

struct Best {
  cublasLtMatmulAlgo_t algo{};
  double seconds = 0;  // median per call
  int candidates = 0;
};

// Every candidate timed (median of samples after a warm-up); the fastest kept.
Best search_best(const RotatedGemm& r) {
  Best best;
  const std::vector<cublasLtMatmulHeuristicResult_t> candidates =
      r.runners.front()->candidates(kCandidates);
  best.candidates = static_cast<int>(candidates.size());
  size_t next = 0;
  for (const cublasLtMatmulHeuristicResult_t& candidate : candidates) {
    time_calls(r, candidate.algo, next);  // warm-up
    std::vector<double> samples;
    for (int s = 0; s < kSamplesPerCandidate; ++s)
      samples.push_back(time_calls(r, candidate.algo, next));
    const double seconds = median(samples);
    if (best.seconds == 0 || seconds < best.seconds) {
      best.seconds = seconds;
      best.algo = candidate.algo;
    }
  }
  if (best.candidates == 0) throw Error("cuBLASLt returned no algorithm for a benchmark GEMM");
  return best;
}

// The searched GEMMs, kept for the process so each search runs once.
struct Searched {
  RotatedGemm gemm;
  Best best;
};

Searched& searched(Pass pass, int64_t m, int64_t n, int64_t k) {
  static std::map<std::tuple<int, int64_t, int64_t, int64_t>, std::unique_ptr<Searched>> cache;
  auto key = std::make_tuple(static_cast<int>(pass), m, n, k);
  auto it = cache.find(key);
  if (it == cache.end()) {
    std::mt19937_64 rng(7);
    auto s = std::make_unique<Searched>();
    s->gemm = make_gemm(pass, m, n, k, rng);
    s->best = search_best(s->gemm);
    it = cache.emplace(key, std::move(s)).first;
  }
  return *it->second;
}

// Seconds per forward (+ backward) of the best plain GEMMs of one layer.
double best_seconds(const LinearShape& shape, bool backward) {
  double seconds = searched(Pass::forward, kTokens, shape.out, shape.in).best.seconds;
  if (backward) {
    seconds += searched(Pass::grad_input, kTokens, shape.out, shape.in).best.seconds;
    seconds += searched(Pass::grad_weight, kTokens, shape.out, shape.in).best.seconds;
  }
  return seconds;
}

double peak_tflops() {
  const Searched& s = searched(Pass::forward, kPeakSize, kPeakSize, kPeakSize);
  return s.gemm.flops / s.best.seconds * 1e-12;
}

// Manual-time loop: each iteration times kCallsPerSample calls of `call`
// (given the call index) and reports the time per call.
template <class Call>
double run_timed(benchmark::State& state, Call&& call) {
  bench::EventTimer timer;
  double total = 0;
  int64_t index = 0;
  for (auto _ : state) {
    timer.start();
    for (int i = 0; i < kCallsPerSample; ++i)
      call(index++);
    const double seconds = timer.stop_seconds() / kCallsPerSample;
    state.SetIterationTime(seconds);
    total += seconds;
  }
  return total / static_cast<double>(state.iterations());
}

// graft::linear on one shape, forward only (no recording) or forward and
// backward (input, weight and bias all wanting gradients).
void bm_graft_linear(benchmark::State& state, LinearShape shape, bool backward) {
  std::mt19937_64 rng(3);
  const int64_t m = kTokens, n = shape.out, k = shape.in;
  const double bytes =
      2.0 * (static_cast<double>(m) * k + static_cast<double>(n) * k + static_cast<double>(m) * n);
  const int copies = rotation_count(bytes);
  struct Operands {
    Tensor x, w, bias, dy;
  };
  std::vector<Operands> ops;
  for (int c = 0; c < copies; ++c) {
    Operands o;
    o.x = random_bf16({m, k}, 1.0, rng);
    o.w = random_bf16({n, k}, 0.05, rng);
    if (shape.bias) o.bias = random_bf16({n}, 0.1, rng);
    o.dy = random_bf16({m, n}, 1.0, rng);
    if (backward) {
      o.x.set_requires_grad();
      o.w.set_requires_grad();
      if (o.bias.defined()) o.bias.set_requires_grad();
    }
    ops.push_back(o);
  }
  const Epilogue epilogue = shape.gelu ? Epilogue::gelu : Epilogue::none;
  auto call = [&](int64_t index) {
    const Operands& o = ops[static_cast<size_t>(index) % ops.size()];
    if (!backward) {
      NoGradGuard no_grad;
      benchmark::DoNotOptimize(linear(o.x, o.w, o.bias, epilogue));
      return;
    }
    // Gradients overwritten each call (the first micro-batch of a step).
    o.x.zero_grad();
    o.w.zero_grad();
    if (o.bias.defined()) o.bias.zero_grad();
    Tensor y = linear(o.x, o.w, o.bias, epilogue);
    tape().backward(y, o.dy);
  };
  for (int i = 0; i < 3; ++i)
    call(i);  // warm-up: plans cached, allocator blocks cached
  cuda::synchronize();

  const double seconds = run_timed(state, call);
  const double flops = gemm_flops(m, n, k) * (backward ? 3 : 1);
  const double tflops = flops / seconds * 1e-12;
  const double best = flops / best_seconds(shape, backward) * 1e-12;
  state.counters["TFLOP/s"] = tflops;
  state.counters["best_TFLOP/s"] = best;
  state.counters["graft/best"] = tflops / best;
  state.counters["graft/peak"] = tflops / peak_tflops();
}

// The best plain cuBLASLt GEMM(s) of one shape, as found by search_best.
void bm_cublaslt_best(benchmark::State& state, LinearShape shape, bool backward) {
  std::vector<Searched*> gemms{&searched(Pass::forward, kTokens, shape.out, shape.in)};
  if (backward) {
    gemms.push_back(&searched(Pass::grad_input, kTokens, shape.out, shape.in));
    gemms.push_back(&searched(Pass::grad_weight, kTokens, shape.out, shape.in));
  }
  double flops = 0;
  for (const Searched* s : gemms)
    flops += s->gemm.flops;
  size_t next = 0;
  const double seconds = run_timed(state, [&](int64_t) {
    for (const Searched* s : gemms)
      s->gemm.runners[next % s->gemm.runners.size()]->run(s->best.algo);
    ++next;
  });
  state.counters["TFLOP/s"] = flops / seconds * 1e-12;
  state.counters["candidates"] = gemms.front()->best.candidates;
}

void bm_peak(benchmark::State& state) {
  Searched& s = searched(Pass::forward, kPeakSize, kPeakSize, kPeakSize);
  size_t next = 0;
  const double seconds = run_timed(
      state, [&](int64_t) { s.gemm.runners[next++ % s.gemm.runners.size()]->run(s.best.algo); });
  state.counters["TFLOP/s"] = s.gemm.flops / seconds * 1e-12;
  state.counters["candidates"] = s.best.candidates;
}

// Console output plus the median TFLOP/s of every benchmark by name.
class MedianReporter : public benchmark::ConsoleReporter {
 public:
  MedianReporter() : benchmark::ConsoleReporter(OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    benchmark::ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      std::string name = run.run_name.str();
      const std::string suffix = "/manual_time";
      if (name.ends_with(suffix)) name.resize(name.size() - suffix.size());
      auto it = run.counters.find("TFLOP/s");
      if (it == run.counters.end()) continue;
      if (run.run_type == Run::RT_Iteration) samples_[name].push_back(it->second.value);
    }
  }
  double median_tflops(const std::string& name) const {
    auto it = samples_.find(name);
    return it == samples_.end() || it->second.empty() ? 0 : median(it->second);
  }

 private:
  std::map<std::string, std::vector<double>> samples_;
};

std::string bench_name(const char* what, const LinearShape& shape, bool backward) {
  return std::string(what) + "/" + shape.name + (backward ? "/fwd_bwd" : "/fwd");
}

}  // namespace

int main(int argc, char** argv) {
  if (!graft::cuda::available()) {
    std::printf("bench_cuda_gemm: no GPU (%s)\n", graft::cuda::unavailable_reason().c_str());
    return 0;
  }
  for (bool backward : {false, true}) {
    for (const LinearShape& shape : kShapes) {
      benchmark::RegisterBenchmark(bench_name("graft_linear", shape, backward).c_str(),
                                   bm_graft_linear, shape, backward)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(bench_name("cublaslt_best", shape, backward).c_str(),
                                   bm_cublaslt_best, shape, backward)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::RegisterBenchmark("peak/bf16_8192", bm_peak)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("gpu", graft::cuda::device_name());
  benchmark::AddCustomContext("tokens", std::to_string(kTokens));

  MedianReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  std::printf("\nbf16, %lld tokens, %s: median TFLOP/s over repetitions\n",
              static_cast<long long>(kTokens), graft::cuda::device_name().c_str());
  std::printf("%-10s %-8s %10s %10s %10s\n", "layer", "pass", "graft", "best", "graft/best");
  for (bool backward : {false, true}) {
    for (const LinearShape& shape : kShapes) {
      const double graft = reporter.median_tflops(bench_name("graft_linear", shape, backward));
      const double best = reporter.median_tflops(bench_name("cublaslt_best", shape, backward));
      if (graft == 0 && best == 0) continue;
      std::printf("%-10s %-8s %10.1f %10.1f %10.3f\n", shape.name, backward ? "fwd+bwd" : "fwd",
                  graft, best, best > 0 ? graft / best : 0.0);
    }
  }
  const double peak = reporter.median_tflops("peak/bf16_8192");
  if (peak > 0) std::printf("%-19s %10.1f\n", "peak 8192^3", peak);
  return 0;
}
