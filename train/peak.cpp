#include "train/peak.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "ops/autograd.h"
#include "ops/cuda/backend.h"
#include "ops/flops.h"
#include "ops/matmul.h"

namespace graft {

PeakMeasurement measure_sgemm_peak(int64_t n, double min_seconds) {
  return measure_gemm_peak(Device::cpu, DType::f32, n, min_seconds);
}

PeakMeasurement measure_gemm_peak(Device device, DType dtype, int64_t n, double min_seconds) {
  GRAFT_INPUT_CHECK(
      device == Device::cuda ? (dtype == DType::f32 || dtype == DType::bf16) : dtype == DType::f32,
      "no GEMM peak for " << dtype_name(dtype) << " on the " << device_name(device));
  if (n <= 0) n = device == Device::cuda ? 8192 : 1024;
  const FlopsLedger saved = flops_ledger();
  NoGradGuard no_grad;
  Tensor a = Tensor::empty({n, n});
  Tensor b = Tensor::empty({n, n});
  float* pa = a.data<float>();
  float* pb = b.data<float>();
  // Deterministic, non-trivial values: denormals or zeros could flatter the rate.
  for (int64_t i = 0; i < n * n; ++i) {
    pa[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
    pb[i] = static_cast<float>((i * 104729) % 1000) / 1000.0f - 0.5f;
  }
  if (device == Device::cuda) {
    a = a.to(Device::cuda).to(dtype);
    b = b.to(Device::cuda).to(dtype);
  }
  matmul(a, b);  // warm-up: thread pool start, page faults, cuBLASLt plans
  cuda::synchronize();
  PeakMeasurement m;
  m.size = n;
  m.device = device;
  m.dtype = dtype;
  double best = 1e300;
  const auto start = std::chrono::steady_clock::now();
  while (m.repeats < 3 || m.seconds < min_seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    Tensor c = matmul(a, b);
    cuda::synchronize();  // GPU work is asynchronous (a no-op without a GPU)
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, dt);
    ++m.repeats;
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  m.flops_per_second = gemm_flops(n, n, n) / best;
  flops_ledger() = saved;
  return m;
}

std::string format_flops_rate(double flops_per_second) {
  if (!(flops_per_second > 0)) return "unknown";
  char buffer[32];
  if (flops_per_second >= 1e12) {
    std::snprintf(buffer, sizeof(buffer), "%.1f TFLOP/s", flops_per_second / 1e12);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.1f GFLOP/s", flops_per_second / 1e9);
  }
  return buffer;
}

std::string describe_peak(const PeakMeasurement& peak) {
  return std::string(dtype_name(peak.dtype)) + " GEMM " + std::to_string(peak.size) + "^3 on the " +
         device_name(peak.device);
}

std::string format_mfu(double model_flops_per_second, double peak) {
  if (!(peak > 0)) return "unknown";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f%%", 100.0 * model_flops_per_second / peak);
  return buffer;
}

}  // namespace graft
