// graft's f32 GEMM (ops/cpu/gemm.h): its result is defined by one fused
// multiply-add chain per element, so it must equal that chain written as a
// plain loop bit for bit, on every shape, layout, alpha/beta and thread count;
// and the chain must be a good product (double reference).
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>
#include <vector>

#include "ops/cpu/gemm.h"

namespace graft {
namespace {

struct Problem {
  int64_t m, n, k;
  bool ta, tb;
  float alpha, beta;
  int64_t pad;  // extra columns in every leading dimension (strided slices)
};

struct Operands {
  std::vector<float> a, b, c;
  int64_t lda, ldb, ldc;
};

Operands make_operands(const Problem& p, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Operands o;
  o.lda = (p.ta ? p.m : p.k) + p.pad;
  o.ldb = (p.tb ? p.k : p.n) + p.pad;
  o.ldc = p.n + p.pad;
  o.a.resize(static_cast<size_t>((p.ta ? p.k : p.m) * o.lda));
  o.b.resize(static_cast<size_t>((p.tb ? p.n : p.k) * o.ldb));
  o.c.resize(static_cast<size_t>(p.m * o.ldc));
  for (auto* v : {&o.a, &o.b, &o.c})
    for (float& x : *v)
      x = u(rng);
  // With beta == 0, C is write-only: NaN there must not leak into the result.
  if (p.beta == 0.0f)
    for (float& x : o.c)
      x = std::nanf("");
  return o;
}

std::vector<float> run_blocked(const Problem& p, const Operands& o, int threads,
                               cpu::GemmTile tile = cpu::GemmTile::automatic) {
  std::vector<float> c = o.c;
  cpu::gemm_f32_with(tile, threads, p.ta, p.tb, p.m, p.n, p.k, p.alpha, o.a.data(), o.lda,
                     o.b.data(), o.ldb, p.beta, c.data(), o.ldc);
  return c;
}

std::vector<float> run_reference(const Problem& p, const Operands& o) {
  std::vector<float> c = o.c;
  cpu::gemm_reference(p.ta, p.tb, p.m, p.n, p.k, p.alpha, o.a.data(), o.lda, o.b.data(), o.ldb,
                      p.beta, c.data(), o.ldc);
  return c;
}

// Awkward sizes on both sides of the kernel's register tile (6 x 16) and cache
// blocks (depth 256, 96 rows, 1024 columns), plus the shapes of a training step.
std::vector<Problem> problems() {
  std::vector<Problem> out;
  const int64_t shapes[][3] = {{1, 1, 1},      {5, 15, 3},    {6, 16, 256},   {7, 17, 257},
                               {97, 33, 511},  {13, 1030, 9}, {200, 3, 600},  {2, 300, 1},
                               {128, 128, 64}, {61, 47, 0},   {130, 150, 520}};
  int i = 0;
  for (const auto& s : shapes) {
    for (int layout = 0; layout < 4; ++layout) {
      const bool ta = (layout & 1) != 0, tb = (layout & 2) != 0;
      const float alphas[] = {1.0f, 0.125f, -0.3f};
      const float betas[] = {0.0f, 1.0f, 0.7f};
      out.push_back({s[0], s[1], s[2], ta, tb, alphas[i % 3], betas[(i / 3) % 3], (i % 2) * 3});
      ++i;
    }
  }
  return out;
}

std::string describe(const Problem& p) {
  std::ostringstream s;
  s << "m=" << p.m << " n=" << p.n << " k=" << p.k << " ta=" << p.ta << " tb=" << p.tb
    << " alpha=" << p.alpha << " beta=" << p.beta << " pad=" << p.pad;
  return s.str();
}

// Every register tile this CPU can run; the AVX-512 one is skipped (with a
// message) on a CPU without it, the AVX2 one runs on every x86-64-v3 CPU.
std::vector<cpu::GemmTile> tiles_here() {
  std::vector<cpu::GemmTile> out{cpu::GemmTile::avx2};
  if (cpu::gemm_tile_available(cpu::GemmTile::avx512)) {
    out.push_back(cpu::GemmTile::avx512);
  } else {
    std::printf("note: no AVX-512F on this CPU, its GEMM tile is not tested here\n");
  }
  return out;
}

TEST(Gemm, BlockedKernelEqualsItsDefinitionBitForBitOnAnyTileAndThreadCount) {
  std::mt19937_64 rng(7);
  for (const Problem& p : problems()) {
    const Operands o = make_operands(p, rng);
    const std::vector<float> expected = run_reference(p, o);
    for (cpu::GemmTile tile : tiles_here()) {
      for (int threads : {1, 2, 3, 4, 7}) {
        const std::vector<float> got = run_blocked(p, o, threads, tile);
        ASSERT_EQ(std::memcmp(got.data(), expected.data(), got.size() * sizeof(float)), 0)
            << describe(p) << " threads=" << threads << " tile=" << static_cast<int>(tile);
      }
    }
  }
}

TEST(Gemm, DefaultEntryPointEqualsItsDefinition) {
  std::mt19937_64 rng(8);
  const Problem p{300, 200, 700, false, true, 1.0f, 0.0f, 0};  // large enough to fork
  const Operands o = make_operands(p, rng);
  std::vector<float> c = o.c;
  cpu::gemm<float>(p.ta, p.tb, p.m, p.n, p.k, p.alpha, o.a.data(), o.lda, o.b.data(), o.ldb, p.beta,
                   c.data(), o.ldc);
  const std::vector<float> expected = run_reference(p, o);
  EXPECT_EQ(std::memcmp(c.data(), expected.data(), c.size() * sizeof(float)), 0);
}

TEST(Gemm, ChainIsAnAccurateProduct) {
  std::mt19937_64 rng(9);
  for (const Problem& p : problems()) {
    const Operands o = make_operands(p, rng);
    const std::vector<float> got = run_blocked(p, o, 2);
    for (int64_t i = 0; i < p.m; ++i) {
      for (int64_t j = 0; j < p.n; ++j) {
        double s = p.beta == 0.0f ? 0.0 : double(p.beta) * o.c[i * o.ldc + j];
        double scale = std::fabs(s);
        for (int64_t q = 0; q < p.k; ++q) {
          const double x = p.ta ? o.a[q * o.lda + i] : o.a[i * o.lda + q];
          const double y = p.tb ? o.b[j * o.ldb + q] : o.b[q * o.ldb + j];
          s += double(p.alpha) * x * y;
          scale += std::fabs(double(p.alpha) * x * y);
        }
        // Sequential float summation: error <= ~k ulp of the sum of magnitudes.
        const double bound = (p.k + 2) * 1.2e-7 * scale + 1e-30;
        ASSERT_LE(std::fabs(got[i * o.ldc + j] - s), bound)
            << describe(p) << " at " << i << "," << j;
      }
    }
  }
}

TEST(Gemm, DoublePrecisionIsAccurateAndThreadCountIndependent) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int layout = 0; layout < 4; ++layout) {
    const bool ta = (layout & 1) != 0, tb = (layout & 2) != 0;
    const int64_t m = 70, n = 45, k = 300;
    std::vector<double> a(m * k), b(k * n), c0(m * n);
    for (auto* v : {&a, &b, &c0})
      for (double& x : *v)
        x = u(rng);
    const int64_t lda = ta ? m : k, ldb = tb ? k : n;
    std::vector<double> runs[2];
    for (int threads : {1, 2}) {
      const int saved = omp_get_max_threads();
      omp_set_num_threads(threads);
      runs[threads - 1] = c0;
      cpu::gemm<double>(ta, tb, m, n, k, 0.5, a.data(), lda, b.data(), ldb, 0.25,
                        runs[threads - 1].data(), n);
      omp_set_num_threads(saved);
    }
    ASSERT_EQ(std::memcmp(runs[0].data(), runs[1].data(), runs[0].size() * sizeof(double)), 0);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        long double s = 0.25L * c0[i * n + j];
        for (int64_t q = 0; q < k; ++q)
          s += 0.5L * (ta ? a[q * lda + i] : a[i * lda + q]) *
               (tb ? b[j * ldb + q] : b[q * ldb + j]);
        ASSERT_NEAR(runs[0][i * n + j], static_cast<double>(s), 1e-12)
            << layout << " " << i << "," << j;
      }
    }
  }
}

TEST(Gemm, LeavesPaddingColumnsOfCUntouched) {
  std::mt19937_64 rng(10);
  const Problem p{37, 21, 40, false, false, 1.0f, 0.0f, 5};
  Operands o = make_operands(p, rng);
  for (float& x : o.c)
    x = 123.0f;
  const std::vector<float> got = run_blocked(p, o, 2);
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = p.n; j < o.ldc; ++j)
      ASSERT_EQ(got[i * o.ldc + j], 123.0f) << i << "," << j;
}

TEST(Gemm, RejectsBadArguments) {
  std::vector<float> a(16), b(16), c(16);
  EXPECT_THROW(
      cpu::gemm<float>(false, false, -1, 2, 2, 1.0f, a.data(), 2, b.data(), 2, 0.0f, c.data(), 2),
      std::exception);
  EXPECT_THROW(
      cpu::gemm<float>(false, false, 2, 4, 2, 1.0f, a.data(), 2, b.data(), 4, 0.0f, c.data(), 3),
      std::exception);
  EXPECT_THROW(cpu::gemm_f32_with(cpu::GemmTile::automatic, 0, false, false, 2, 2, 2, 1.0f,
                                  a.data(), 2, b.data(), 2, 0.0f, c.data(), 2),
               std::exception);
}

}  // namespace
}  // namespace graft
