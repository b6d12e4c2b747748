// bench_step: one full training step (forward, backward, gradient clipping,
// AdamW) through graft's Trainer, for the GPT-style and T5-style `small`
// configurations of bench/step_setup.h, timed next to the machine's sgemm
// peak in the same run so MFU is a ratio of two numbers taken together.
//
//   step/<config>       Trainer::train_step on one fixed micro-batch;
//                       counters tokens/s and GFLOP/s (model FLOPs: the
//                       ledger's matmul + attention for one step).
//   peak/sgemm2048      graft's f32 GEMM (ops/cpu/gemm.h) on 2048 x 2048 x
//                       2048 (NN), what every step's products run on: the
//                       denominator of MFU.
//   peak/blas2048       the same product in raw cblas_sgemm of the BLAS
//                       graft links, for reference (its kernel is whatever
//                       OpenBLAS picks on this CPU).
//
// Before timing, main() runs one step per configuration and requires the
// ledger's executed matmul and attention FLOPs to equal model/flops.h's
// analytic training_step_flops exactly (the MFU numerator is then both).
// After the run it prints tokens/s, model GFLOP/s and MFU against the median
// and the best peak repetition, then (unless --no_phases) a per-phase
// breakdown of hand-driven steps: forward, backward, clip, AdamW.
//
// --row_shards=N: the Trainer's row shards (train/trainer.h), 1 by default.
// --json --config=<gpt|t5> [--steps=N] [--warmup=N]: no Google Benchmark; runs
// N timed Trainer steps and prints one JSON line (median tokens/s, parameter
// count). bench/compare_pytorch.py uses it so graft and PyTorch are timed the
// same way (median of per-step wall times).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "bench/raw_sgemm.h"
#include "bench/step_setup.h"
#include "bench/summary.h"
#include "ops/autograd.h"
#include "ops/cpu/blas.h"
#include "ops/cpu/gemm.h"
#include "ops/flops.h"
#include "ops/grad_norm.h"
#include "train/peak.h"
#include "train/trainer.h"

namespace gb = graft::bench;
using graft::Tensor;

namespace {

using Clock = std::chrono::steady_clock;

int64_t g_row_shards = 1;  // --row_shards, read when a rig is built

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

// A model, its task, a Trainer and one batch, built once per configuration
// and kept for the whole run (Google Benchmark calls a benchmark function
// once per repetition; building the model each time would time nothing new).
struct StepRig {
  gb::StepConfig config;
  std::unique_ptr<graft::Model> model;
  graft::TokenPredictionTask task{graft::TokenPredictionTask::Head::lm};
  std::unique_ptr<graft::Trainer> trainer;
  std::vector<graft::Batch> batches;

  explicit StepRig(const gb::StepConfig& c) : config(c) {
    model = graft::make_model(c.model, /*seed=*/1);
    graft::TrainerOptions options;
    options.schedule.peak_lr = 1e-4;  // small: the loss stays finite for any number of steps
    options.schedule.total_steps = 1000000;
    options.clip_norm = 1.0;
    options.row_shards = g_row_shards;
    trainer = std::make_unique<graft::Trainer>(*model, task, options);
    batches.push_back(gb::random_batch(c, 7));
  }
  double model_flops() const {
    return graft::training_step_flops(config.model, config.shape()).total();
  }
};

std::map<std::string, std::unique_ptr<StepRig>>& rigs() {
  static std::map<std::string, std::unique_ptr<StepRig>> r;
  return r;
}

StepRig& rig(const gb::StepConfig& c) {
  auto& slot = rigs()[c.name];
  if (!slot) slot = std::make_unique<StepRig>(c);
  return *slot;
}

// The ledger's executed model FLOPs of one step must equal the analytic
// count, part by part, or the MFU numerator is not what RECIPES.md defines.
bool check_ledger(StepRig& r) {
  const graft::StepResult s = r.trainer->train_step(r.batches);
  const graft::ModelFlops want = graft::training_step_flops(r.config.model, r.config.shape());
  const double got_matmul = s.forward.matmul + s.backward.matmul;
  const double got_attention = s.forward.attention + s.backward.attention;
  const bool ok = got_matmul == want.matmul() && got_attention == want.attention();
  std::printf(
      "ledger %s: matmul %.6e (analytic %.6e), attention %.6e (analytic %.6e), other %.3e: "
      "%s\n",
      r.config.name.c_str(), got_matmul, want.matmul(), got_attention, want.attention(),
      s.forward.other + s.backward.other, ok ? "equal" : "MISMATCH");
  return ok && std::isfinite(s.loss);
}

void bm_step(benchmark::State& state, gb::StepConfig c) {
  StepRig& r = rig(c);
  r.trainer->train_step(r.batches);  // warm: allocator and OpenMP pool
  for (auto _ : state) {
    graft::StepResult s = r.trainer->train_step(r.batches);
    benchmark::DoNotOptimize(s.loss);
  }
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(c.tokens_per_step()),
                                                  benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = gb::gflops_counter(r.model_flops());
}

constexpr int64_t kPeakN = 2048;

void bm_peak(benchmark::State& state, bool blas) {
  const gb::GemmCall g{false, false, kPeakN, kPeakN, kPeakN, "NN"};
  gb::Buffer a = gb::random_buffer(kPeakN * kPeakN, 1);
  gb::Buffer b = gb::random_buffer(kPeakN * kPeakN, 2);
  gb::Buffer c = gb::random_buffer(kPeakN * kPeakN, 3);
  for (auto _ : state) {
    if (blas) {
      gb::raw_sgemm(g, a.get(), b.get(), c.get());
    } else {
      graft::cpu::gemm<float>(false, false, kPeakN, kPeakN, kPeakN, 1.0f, a.get(), kPeakN, b.get(),
                              kPeakN, 0.0f, c.get(), kPeakN);
    }
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = gb::gflops_counter(gb::gemm_flop_count(kPeakN, kPeakN, kPeakN));
}

// Hand-driven steps that do what Trainer::train_step does, phase by phase, so
// the summary can say where a step's time goes.
struct Phases {
  std::vector<double> forward, backward, clip, adamw, total;
};

Phases time_phases(StepRig& r, int steps) {
  Phases p;
  graft::Parameters& params = r.model->parameters();
  std::vector<Tensor> trainable;
  for (const graft::NamedParameter& e : params.entries())
    if (e.tensor.requires_grad()) trainable.push_back(e.tensor);
  for (int i = 0; i < steps + 1; ++i) {
    params.zero_grad();
    graft::tape().clear();
    const auto t0 = Clock::now();
    graft::ForwardContext context(true, 1234 + static_cast<uint64_t>(i));
    Tensor loss = r.task.loss(*r.model, context, r.batches[0]);
    benchmark::DoNotOptimize(loss.item());
    const double f = since(t0);
    auto t1 = Clock::now();
    graft::tape().backward(loss);
    const double b = since(t1);
    t1 = Clock::now();
    graft::clip_grad_norm(trainable, 1.0);
    const double c = since(t1);
    t1 = Clock::now();
    r.trainer->optimizer().step(1e-4);
    const double a = since(t1);
    if (i == 0) continue;  // warm-up
    p.forward.push_back(f);
    p.backward.push_back(b);
    p.clip.push_back(c);
    p.adamw.push_back(a);
    p.total.push_back(since(t0));
  }
  params.zero_grad();
  return p;
}

void print_summary(const gb::SummaryReporter& rep, double best_peak,
                   const std::vector<gb::StepConfig>& configs) {
  const double peak_median = rep.median_gflops("peak/sgemm2048");
  const double peak_best = std::max(rep.best_gflops("peak/sgemm2048"), best_peak);
  std::printf(
      "\nsgemm %lldx%lldx%lld peak (graft's GEMM): median %.1f GFLOP/s, best %.1f GFLOP/s"
      "; %s: median %.1f GFLOP/s\n",
      static_cast<long long>(kPeakN), static_cast<long long>(kPeakN),
      static_cast<long long>(kPeakN), peak_median, peak_best, graft::cpu::blas_name(),
      rep.has("peak/blas2048") ? rep.median_gflops("peak/blas2048") : 0.0);
  std::printf("%-6s %10s %12s %12s %11s %10s %12s\n", "config", "tokens", "model MFLOP", "tokens/s",
              "GFLOP/s", "MFU(med)", "MFU(best)");
  for (const gb::StepConfig& c : configs) {
    const std::string name = "step/" + c.name;
    if (!rep.has(name)) continue;
    const double seconds = rep.median_seconds(name);
    const double gflops = rep.median_gflops(name);
    const double best = rep.best_gflops(name);
    std::printf("%-6s %10lld %12.1f %12.0f %11.1f %9.1f%% %11.1f%%\n", c.name.c_str(),
                static_cast<long long>(c.tokens_per_step()),
                graft::training_step_flops(c.model, c.shape()).total() / 1e6,
                static_cast<double>(c.tokens_per_step()) / seconds, gflops,
                peak_median > 0 ? 100 * gflops / peak_median : 0.0,
                peak_best > 0 ? 100 * best / peak_best : 0.0);
  }
  std::printf(
      "(MFU(med): median step rate / median peak of this run; MFU(best): best step "
      "repetition / best peak)\n");
}

void print_phases(const std::vector<gb::StepConfig>& configs, int steps) {
  std::printf("\nphases (median of %d hand-driven steps, ms; model GFLOP/s of the phase)\n", steps);
  std::printf("%-6s %9s %9s %9s %9s %9s %10s %10s\n", "config", "forward", "backward", "clip",
              "adamw", "total", "fwd GF/s", "bwd GF/s");
  for (const gb::StepConfig& c : configs) {
    StepRig& r = rig(c);
    const Phases p = time_phases(r, steps);
    const graft::ModelFlops f = graft::training_step_flops(c.model, c.shape());
    const double fw = median(p.forward), bw = median(p.backward);
    std::printf("%-6s %9.2f %9.2f %9.2f %9.2f %9.2f %10.1f %10.1f\n", c.name.c_str(), 1e3 * fw,
                1e3 * bw, 1e3 * median(p.clip), 1e3 * median(p.adamw), 1e3 * median(p.total),
                f.forward.model() / fw / 1e9, f.backward.model() / bw / 1e9);
  }
}

// Strips "--name=value" / "--flag" options of this program from argv before
// Google Benchmark sees them.
struct OwnArgs {
  bool json = false;
  bool phases = true;
  std::string config = "gpt";
  int steps = 10;
  int warmup = 2;
  int phase_steps = 10;
  int row_shards = 1;
};

OwnArgs take_own_args(int& argc, char** argv) {
  OwnArgs a;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    auto value = [&](const char* key) -> const char* {
      const size_t n = std::strlen(key);
      return s.compare(0, n, key) == 0 ? argv[i] + n : nullptr;
    };
    if (s == "--json") {
      a.json = true;
    } else if (s == "--no_phases") {
      a.phases = false;
    } else if (const char* v = value("--config=")) {
      a.config = v;
    } else if (const char* v = value("--steps=")) {
      a.steps = std::atoi(v);
    } else if (const char* v = value("--warmup=")) {
      a.warmup = std::atoi(v);
    } else if (const char* v = value("--row_shards=")) {
      a.row_shards = std::atoi(v);
    } else if (const char* v = value("--phase_steps=")) {
      a.phase_steps = std::atoi(v);
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  return a;
}

int run_json(const OwnArgs& a) {
  for (const gb::StepConfig& c : gb::step_configs()) {
    if (c.name != a.config) continue;
    StepRig& r = rig(c);
    for (int i = 0; i < a.warmup; ++i)
      r.trainer->train_step(r.batches);
    std::vector<double> seconds;
    double loss = 0;
    for (int i = 0; i < a.steps; ++i) {
      const graft::StepResult s = r.trainer->train_step(r.batches);
      seconds.push_back(s.seconds);
      loss = s.loss;
    }
    const double med = median(seconds);
    std::printf(
        "{\"framework\": \"graft\", \"config\": \"%s\", \"params\": %lld, \"tokens_per_step\": "
        "%lld, \"steps\": %d, \"median_step_s\": %.6f, \"min_step_s\": %.6f, \"tokens_per_s\": "
        "%.1f, \"model_flops_per_step\": %.6e, \"last_loss\": %.4f, \"threads\": %d, "
        "\"row_shards\": %lld}\n",
        c.name.c_str(), static_cast<long long>(gb::parameter_count(*r.model)),
        static_cast<long long>(c.tokens_per_step()), a.steps, med,
        *std::min_element(seconds.begin(), seconds.end()),
        static_cast<double>(c.tokens_per_step()) / med, r.model_flops(), loss,
        omp_get_max_threads(), static_cast<long long>(g_row_shards));
    return 0;
  }
  std::fprintf(stderr, "bench_step: unknown --config=%s (gpt or t5)\n", a.config.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const OwnArgs own = take_own_args(argc, argv);
  g_row_shards = own.row_shards;
  if (own.json) return run_json(own);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("blas", graft::cpu::blas_name());
  benchmark::AddCustomContext("gemm", graft::cpu::gemm_engine_name());
  benchmark::AddCustomContext("omp_max_threads", std::to_string(omp_get_max_threads()));

  const std::vector<gb::StepConfig> configs = gb::step_configs();
  for (const gb::StepConfig& c : configs) {
    StepRig& r = rig(c);
    std::printf(
        "%s: %s, batch %lld, encoder %lld + decoder %lld positions, %lld parameters, "
        "%.3f GFLOP/step (model)\n",
        c.name.c_str(), graft::describe(c.model).c_str(), static_cast<long long>(c.batch),
        static_cast<long long>(c.encoder_len), static_cast<long long>(c.decoder_len),
        static_cast<long long>(gb::parameter_count(*r.model)), r.model_flops() / 1e9);
    if (!check_ledger(r)) {
      std::fprintf(stderr, "bench_step: executed FLOPs differ from model/flops.h: not timing\n");
      return 1;
    }
  }
  // train/peak.h's measurement (graft's matmul on 2048^3, best of >= 1 s):
  // an extra estimate of the peak next to the registered raw-sgemm benchmark.
  const graft::PeakMeasurement peak = graft::measure_sgemm_peak(kPeakN, 1.0);
  std::printf("train/peak.h sgemm %lld^3: %s (best of %lld)\n", static_cast<long long>(peak.size),
              graft::format_flops_rate(peak.flops_per_second).c_str(),
              static_cast<long long>(peak.repeats));

  benchmark::RegisterBenchmark("peak/sgemm2048", bm_peak, false)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("peak/blas2048", bm_peak, true)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  for (const gb::StepConfig& c : configs) {
    benchmark::RegisterBenchmark(("step/" + c.name).c_str(), bm_step, c)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  gb::SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  print_summary(reporter, peak.flops_per_second / 1e9, configs);
  if (own.phases) print_phases(configs, own.phase_steps);
  return 0;
}
