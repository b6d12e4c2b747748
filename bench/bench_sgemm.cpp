// bench_sgemm: graft's f32 GEMM (ops/cpu/gemm.h) against raw row-major
// cblas_sgemm of a BLAS, side by side on graft's transformer shapes
// (bench/shapes.h). Built once per BLAS (bench_sgemm_openblas,
// bench_sgemm_blis). Run with OMP_NUM_THREADS=1 and 2; the summary's total
// rate over every shape (one training step's GEMMs, each shape once) is what
// decisions rest on. The BLAS's kernel follows OPENBLAS_CORETYPE where the
// environment sets it; graft's does not. Only the program built against the
// BLAS graft links (GRAFT_BLAS) has the graft column.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdio>
#include <string>

#include "bench/raw_sgemm.h"
#include "bench/shapes.h"
#include "bench/summary.h"
#if BENCH_WITH_GRAFT
#include "ops/cpu/gemm.h"
#endif

namespace gb = graft::bench;

namespace {

#if BENCH_WITH_GRAFT
void bm_graft_sgemm(benchmark::State& state, gb::GemmCall g) {
  gb::Buffer a = gb::random_buffer(g.m * g.k, 1);
  gb::Buffer b = gb::random_buffer(g.k * g.n, 2);
  gb::Buffer c = gb::random_buffer(g.m * g.n, 3);
  const int64_t lda = g.transpose_a ? g.m : g.k, ldb = g.transpose_b ? g.k : g.n;
  for (auto _ : state) {
    graft::cpu::gemm<float>(g.transpose_a, g.transpose_b, g.m, g.n, g.k, 1.0f, a.get(), lda,
                            b.get(), ldb, 0.0f, c.get(), g.n);
    benchmark::DoNotOptimize(c.get());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = gb::gflops_counter(gb::gemm_flop_count(g.m, g.n, g.k));
  state.SetLabel(g.layout);
}
#endif

const char* const kEngines[] = {"graft/", "sgemm/"};

}  // namespace

int main(int argc, char** argv) {
  for (int64_t d : gb::kWidths) {
    for (gb::Layer layer : gb::kLayers) {
      for (gb::Pass pass : gb::kPasses) {
        const gb::GemmCall g = gb::gemm_call(gb::layer_shape(layer, d), pass);
        const std::string name = gb::case_name(layer, d, pass);
        // Alternating the two engines case by case: each pair sees the same
        // machine state.
#if BENCH_WITH_GRAFT
        benchmark::RegisterBenchmark(gb::with_prefix("graft/", name).c_str(), bm_graft_sgemm, g)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
#endif
        benchmark::RegisterBenchmark(gb::with_prefix("sgemm/", name).c_str(), gb::bm_raw_sgemm, g)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("blas", BENCH_BLAS_NAME);
#if BENCH_WITH_GRAFT
  benchmark::AddCustomContext("graft_gemm", graft::cpu::gemm_engine_name());
#endif
  benchmark::AddCustomContext("omp_max_threads", std::to_string(omp_get_max_threads()));

  gb::SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  std::printf("\ngraft vs %s, %d thread(s): median GFLOP/s\n", BENCH_BLAS_NAME,
              omp_get_max_threads());
  std::printf("%-28s %6s %10s %10s %7s\n", "case", "layout", "graft", BENCH_BLAS_NAME, "ratio");
  double flops[2] = {0, 0}, seconds[2] = {0, 0};
  for (int64_t d : gb::kWidths) {
    for (gb::Layer layer : gb::kLayers) {
      for (gb::Pass pass : gb::kPasses) {
        const gb::GemmCall g = gb::gemm_call(gb::layer_shape(layer, d), pass);
        const std::string name = gb::case_name(layer, d, pass);
        double rate[2] = {0, 0};
        for (int e = 0; e < 2; ++e) {
          const std::string full = gb::with_prefix(kEngines[e], name);
          if (!reporter.has(full)) continue;
          rate[e] = reporter.median_gflops(full);
          flops[e] += gb::gemm_flop_count(g.m, g.n, g.k);
          seconds[e] += reporter.median_seconds(full);
        }
        if (rate[0] == 0 && rate[1] == 0) continue;
        std::printf("%-28s %6s %10.1f %10.1f %6.2fx\n", name.c_str(), g.layout, rate[0], rate[1],
                    rate[1] > 0 ? rate[0] / rate[1] : 0.0);
      }
    }
  }
  const double graft_total = seconds[0] > 0 ? flops[0] / seconds[0] * 1e-9 : 0;
  const double blas_total = seconds[1] > 0 ? flops[1] / seconds[1] * 1e-9 : 0;
  std::printf("%-28s %6s %10.1f %10.1f %6.2fx\n", "all shapes", "", graft_total, blas_total,
              blas_total > 0 ? graft_total / blas_total : 0.0);
  return 0;
}
