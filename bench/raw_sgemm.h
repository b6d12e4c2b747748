// Raw row-major cblas_sgemm on preallocated, 64-byte-aligned buffers: the
// reference rate graft's GEMM ops are measured against. Header-only so both
// bench_sgemm builds (OpenBLAS, BLIS) and bench_kernels share it; the cblas.h
// seen is that of the BLAS the including target links.
#pragma once

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "bench/shapes.h"

namespace graft::bench {

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float[], FreeDeleter>;

// n floats in [-1, 1), 64-byte aligned, deterministic.
inline Buffer random_buffer(int64_t n, uint32_t seed) {
  const size_t bytes = (static_cast<size_t>(n) * sizeof(float) + 63) / 64 * 64;
  Buffer b(static_cast<float*>(std::aligned_alloc(64, bytes)));
  uint32_t state = seed * 2654435761u + 1u;
  for (int64_t i = 0; i < n; ++i) {
    state = state * 1664525u + 1013904223u;
    b[i] = static_cast<float>(state >> 8) * (2.0f / 16777216.0f) - 1.0f;
  }
  return b;
}

inline void raw_sgemm(const GemmCall& g, const float* a, const float* b, float* c,
                      float beta = 0.0f) {
  const int lda = static_cast<int>(g.transpose_a ? g.m : g.k);
  const int ldb = static_cast<int>(g.transpose_b ? g.k : g.n);
  cblas_sgemm(CblasRowMajor, g.transpose_a ? CblasTrans : CblasNoTrans,
              g.transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(g.m),
              static_cast<int>(g.n), static_cast<int>(g.k), 1.0f, a, lda, b, ldb, beta, c,
              static_cast<int>(g.n));
}

// GFLOP/s as a rate counter (kIsRate, per iteration): divided by the real
// time, so benchmarks using it must UseRealTime() (BLAS threads are not the
// main thread's CPU time).
inline benchmark::Counter gflops_counter(double flops_per_iteration) {
  return benchmark::Counter(flops_per_iteration * 1e-9,
                            benchmark::Counter::kIsIterationInvariantRate);
}

// Times one raw sgemm call of the given geometry.
inline void bm_raw_sgemm(benchmark::State& state, GemmCall g) {
  Buffer a = random_buffer(g.m * g.k, 1);
  Buffer b = random_buffer(g.k * g.n, 2);
  Buffer c = random_buffer(g.m * g.n, 3);
  for (auto _ : state) {
    raw_sgemm(g, a.get(), b.get(), c.get());
    benchmark::DoNotOptimize(c.get());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = gflops_counter(gemm_flop_count(g.m, g.n, g.k));
  state.SetLabel(g.layout);
}

}  // namespace graft::bench
