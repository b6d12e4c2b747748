// The machine's measured peak for MFU: f32 GEMM throughput through graft's own
// matmul (and so through the BLAS it was built with), not a datasheet number,
// so MFU says how much of what this build can do a training run achieves.
#pragma once

#include <cstdint>
#include <string>

namespace graft {

struct PeakMeasurement {
  double flops_per_second = 0;  // 0: not measured
  int64_t size = 0;             // n of the n×n×n GEMM
  int64_t repeats = 0;
  double seconds = 0;
};

// Runs n×n×n f32 GEMMs (one warm-up, then at least three, until min_seconds
// have passed) and reports the best single-GEMM rate. Leaves the process's
// FLOPs ledger as it found it.
PeakMeasurement measure_sgemm_peak(int64_t n = 1024, double min_seconds = 0.5);

// "123.4 GFLOP/s", or "unknown" for a rate <= 0.
std::string format_flops_rate(double flops_per_second);
// "12.3%", or "unknown" when peak <= 0.
std::string format_mfu(double model_flops_per_second, double peak);

}  // namespace graft
