// The register tiles behind ops/cpu/gemm.cpp: each continues MR x NR chains
// of fused multiply-adds over `depth` packed steps (A packed MR values per
// step, B packed NR values per step, 64-byte aligned), one SIMD lane per
// output element. Lane width and tile shape change which chains run side by
// side, never a chain, so every tile gives the same bits (tests/ops/
// test_gemm.cpp runs each one against gemm_reference).
//
// The AVX-512 tile is compiled for AVX-512F by function attribute only, so the
// rest of graft keeps x86-64-v3 code (GCC 12.2 miscompiles some auto-
// vectorised AVX-512 code; intrinsics alone are what this tile uses).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace graft::cpu::gemm_tiles {

// 6 x 16 = 12 ymm accumulators, leaving two B vectors and an A broadcast of
// the 16 registers.
struct Avx2 {
  static constexpr int64_t kMr = 6;
  static constexpr int64_t kNr = 16;
  static constexpr const char* kName = "avx2";

  // kFromZero: the chains start from zero and C is only written.
  template <bool kFromZero>
  static void run(int64_t depth, const float* ap, const float* bp, float* c, int64_t ldc) {
    __m256 acc[kMr][2];
    for (int64_t r = 0; r < kMr; ++r) {
      acc[r][0] = kFromZero ? _mm256_setzero_ps() : _mm256_loadu_ps(c + r * ldc);
      acc[r][1] = kFromZero ? _mm256_setzero_ps() : _mm256_loadu_ps(c + r * ldc + 8);
    }
#pragma GCC unroll 4
    for (int64_t p = 0; p < depth; ++p) {
      const __m256 b0 = _mm256_load_ps(bp);
      const __m256 b1 = _mm256_load_ps(bp + 8);
#pragma GCC unroll 6
      for (int64_t r = 0; r < kMr; ++r) {
        const __m256 a = _mm256_broadcast_ss(ap + r);
        acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
      }
      ap += kMr;
      bp += kNr;
    }
    for (int64_t r = 0; r < kMr; ++r) {
      _mm256_storeu_ps(c + r * ldc, acc[r][0]);
      _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
    }
  }
};

// 12 x 32 = 24 zmm accumulators of the 32 registers.
struct Avx512 {
  static constexpr int64_t kMr = 12;
  static constexpr int64_t kNr = 32;
  static constexpr const char* kName = "avx512";

  template <bool kFromZero>
  __attribute__((target("avx512f"))) static void run(int64_t depth, const float* ap,
                                                     const float* bp, float* c, int64_t ldc) {
    __m512 acc[kMr][2];
#pragma GCC unroll 12
    for (int64_t r = 0; r < kMr; ++r) {
      acc[r][0] = kFromZero ? _mm512_setzero_ps() : _mm512_loadu_ps(c + r * ldc);
      acc[r][1] = kFromZero ? _mm512_setzero_ps() : _mm512_loadu_ps(c + r * ldc + 16);
    }
#pragma GCC unroll 2
    for (int64_t p = 0; p < depth; ++p) {
      const __m512 b0 = _mm512_load_ps(bp);
      const __m512 b1 = _mm512_load_ps(bp + 16);
#pragma GCC unroll 12
      for (int64_t r = 0; r < kMr; ++r) {
        const __m512 a = _mm512_set1_ps(ap[r]);
        acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
      }
      ap += kMr;
      bp += kNr;
    }
#pragma GCC unroll 12
    for (int64_t r = 0; r < kMr; ++r) {
      _mm512_storeu_ps(c + r * ldc, acc[r][0]);
      _mm512_storeu_ps(c + r * ldc + 16, acc[r][1]);
    }
  }
};

}  // namespace graft::cpu::gemm_tiles
