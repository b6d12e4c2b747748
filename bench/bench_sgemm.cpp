// bench_sgemm: raw row-major cblas_sgemm on graft's transformer shapes
// (bench/shapes.h), built once per BLAS (bench_sgemm_openblas,
// bench_sgemm_blis) to choose GRAFT_BLAS. Run with OMP_NUM_THREADS=1 and 2;
// the summary's total rate over every shape is what the choice rests on.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdio>
#include <string>

#include "bench/raw_sgemm.h"
#include "bench/shapes.h"
#include "bench/summary.h"

namespace gb = graft::bench;

int main(int argc, char** argv) {
  for (int64_t d : gb::kWidths) {
    for (gb::Layer layer : gb::kLayers) {
      for (gb::Pass pass : gb::kPasses) {
        const gb::GemmCall g = gb::gemm_call(gb::layer_shape(layer, d), pass);
        benchmark::RegisterBenchmark(
            gb::with_prefix("sgemm/", gb::case_name(layer, d, pass)).c_str(), gb::bm_raw_sgemm, g)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("blas", BENCH_BLAS_NAME);
  benchmark::AddCustomContext("omp_max_threads", std::to_string(omp_get_max_threads()));

  gb::SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  // Median GFLOP/s per case and the total over all cases (sum of FLOPs over
  // sum of median times: one training step's GEMMs, each shape once).
  std::printf("\n%s, %d thread(s): median GFLOP/s\n", BENCH_BLAS_NAME, omp_get_max_threads());
  std::printf("%-28s %6s %10s %10s\n", "case", "layout", "median", "best");
  double total_flops = 0, total_seconds = 0;
  for (int64_t d : gb::kWidths) {
    double d_flops = 0, d_seconds = 0;
    for (gb::Layer layer : gb::kLayers) {
      for (gb::Pass pass : gb::kPasses) {
        const gb::GemmCall g = gb::gemm_call(gb::layer_shape(layer, d), pass);
        const std::string name = gb::with_prefix("sgemm/", gb::case_name(layer, d, pass));
        if (!reporter.has(name)) continue;
        std::printf("%-28s %6s %10.1f %10.1f\n", gb::case_name(layer, d, pass).c_str(), g.layout,
                    reporter.median_gflops(name), reporter.best_gflops(name));
        d_flops += gb::gemm_flop_count(g.m, g.n, g.k);
        d_seconds += reporter.median_seconds(name);
      }
    }
    if (d_seconds > 0) {
      std::printf("%-28s %6s %10.1f\n", gb::with_prefix("d", std::to_string(d) + " total").c_str(),
                  "", d_flops / d_seconds * 1e-9);
    }
    total_flops += d_flops;
    total_seconds += d_seconds;
  }
  if (total_seconds > 0) {
    std::printf("%-28s %6s %10.1f\n", "all shapes", "", total_flops / total_seconds * 1e-9);
  }
  return 0;
}
