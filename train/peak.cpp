#include "train/peak.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "ops/autograd.h"
#include "ops/flops.h"
#include "ops/matmul.h"

namespace graft {

PeakMeasurement measure_sgemm_peak(int64_t n, double min_seconds) {
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
  matmul(a, b);  // warm-up: thread pool start, page faults
  PeakMeasurement m;
  m.size = n;
  double best = 1e300;
  const auto start = std::chrono::steady_clock::now();
  while (m.repeats < 3 || m.seconds < min_seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    Tensor c = matmul(a, b);
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
  std::snprintf(buffer, sizeof(buffer), "%.1f GFLOP/s", flops_per_second / 1e9);
  return buffer;
}

std::string format_mfu(double model_flops_per_second, double peak) {
  if (!(peak > 0)) return "unknown";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f%%", 100.0 * model_flops_per_second / peak);
  return buffer;
}

}  // namespace graft
