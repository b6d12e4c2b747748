// The machine's measured peak for MFU: GEMM throughput through graft's own
// matmul (the BLAS it was built with on the CPU, cuBLASLt on the GPU, in the
// model's dtype), not a datasheet number, so MFU says how much of what this
// build can do on this device a training run achieves.
#pragma once

#include <cstdint>
#include <string>

#include "ops/dtype.h"

namespace graft {

struct PeakMeasurement {
  double flops_per_second = 0;  // 0: not measured
  int64_t size = 0;             // n of the n×n×n GEMM
  int64_t repeats = 0;
  double seconds = 0;
  Device device = Device::cpu;
  DType dtype = DType::f32;
};

// Runs n×n×n f32 GEMMs (one warm-up, then at least three, until min_seconds
// have passed) and reports the best single-GEMM rate. Leaves the process's
// FLOPs ledger as it found it.
PeakMeasurement measure_sgemm_peak(int64_t n = 1024, double min_seconds = 0.5);
// The same on device in dtype (f32 on the CPU; f32 or bf16 on the GPU, where
// the GEMM is synchronised around each timing); n = 0 picks 1024 on the CPU
// and 8192 on the GPU (smaller GEMMs do not fill a GPU).
PeakMeasurement measure_gemm_peak(Device device, DType dtype, int64_t n = 0,
                                  double min_seconds = 0.5);
// "f32 GEMM 1024^3 on the cpu" (for logs).
std::string describe_peak(const PeakMeasurement& peak);

// "123.4 GFLOP/s" ("801.7 TFLOP/s" from 1e12 up), or "unknown" for a rate <= 0.
std::string format_flops_rate(double flops_per_second);
// "12.3%", or "unknown" when peak <= 0.
std::string format_mfu(double model_flops_per_second, double peak);

}  // namespace graft
