#include "ops/cpu/gemm.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "ops/check.h"
#include "ops/cpu/gemm_tiles.h"

namespace graft::cpu {

namespace {

// Cache blocking only (the result does not depend on it, see gemm.h): a
// kKc-deep B micro-panel (16-32 KiB) stays in L1, a kMc x kKc A block (96 KiB)
// in L2, a kKc x kNc B block (1 MiB) in L2/L3. kMc is a multiple of every
// tile's rows, kNc of every tile's columns.
constexpr int64_t kKc = 256;
constexpr int64_t kMc = 96;
constexpr int64_t kNc = 1024;
// Below this many multiply-adds one thread does the whole product: forking
// costs more than it saves.
constexpr int64_t kParallelMacs = int64_t{1} << 18;

// op(X)[r, c] of a row-major X with row stride ld.
inline float element(const float* x, int64_t ld, bool transposed, int64_t r, int64_t c) {
  return transposed ? x[c * ld + r] : x[r * ld + c];
}

// C's new value from its old one and the element's chain (gemm.h).
inline float combine(float beta, float c, float chain) {
  if (beta == 0.0f) return chain;
  return (beta == 1.0f ? c : beta * c) + chain;
}

// Packs rows [i0, i0+rows) x columns [p0, p0+depth) of alpha * op(A) into
// panels of kMr rows, each stored column by column (kMr values per p), rows
// past the edge as zeros.
template <int64_t kMr>
void pack_a(const float* a, int64_t lda, bool ta, float alpha, int64_t i0, int64_t rows, int64_t p0,
            int64_t depth, float* dst) {
  for (int64_t ir = 0; ir < rows; ir += kMr) {
    const int64_t mr = std::min(kMr, rows - ir);
    float* panel = dst + ir * depth;
    for (int64_t p = 0; p < depth; ++p) {
      float* out = panel + p * kMr;
      for (int64_t r = 0; r < mr; ++r) {
        const float v = element(a, lda, ta, i0 + ir + r, p0 + p);
        out[r] = alpha == 1.0f ? v : alpha * v;
      }
      for (int64_t r = mr; r < kMr; ++r)
        out[r] = 0.0f;
    }
  }
}

// Packs rows [p0, p0+depth) x columns [j0, j0+cols) of op(B) into panels of
// kNr columns, each stored row by row (kNr values per p), edge columns zero.
template <int64_t kNr>
void pack_b(const float* b, int64_t ldb, bool tb, int64_t p0, int64_t depth, int64_t j0,
            int64_t cols, float* dst) {
  for (int64_t jr = 0; jr < cols; jr += kNr) {
    const int64_t nr = std::min(kNr, cols - jr);
    float* panel = dst + jr * depth;
    if (!tb) {
      for (int64_t p = 0; p < depth; ++p) {
        const float* src = b + (p0 + p) * ldb + j0 + jr;
        float* out = panel + p * kNr;
        if (nr == kNr) {
          for (int64_t j = 0; j < kNr; j += 8)
            _mm256_store_ps(out + j, _mm256_loadu_ps(src + j));
        } else {
          std::copy(src, src + nr, out);
          std::fill(out + nr, out + kNr, 0.0f);
        }
      }
    } else {
      // op(B)[p, j] = B[j, p]: read each source row once, contiguously.
      for (int64_t j = 0; j < kNr; ++j) {
        if (j < nr) {
          const float* src = b + (j0 + jr + j) * ldb + p0;
          for (int64_t p = 0; p < depth; ++p)
            panel[p * kNr + j] = src[p];
        } else {
          for (int64_t p = 0; p < depth; ++p)
            panel[p * kNr + j] = 0.0f;
        }
      }
    }
  }
}

// One register tile of C: mr x nr valid elements at c. The first depth block
// starts the chains from zero (C is not read); later blocks continue them
// from C. Edge tiles run the same kernel on a padded copy (the padding's
// chains are computed and dropped), so a chain is the same wherever it sits.
template <class Tile>
void tile(int64_t depth, const float* ap, const float* bp, float* c, int64_t ldc, int64_t mr,
          int64_t nr, bool first) {
  constexpr int64_t kMr = Tile::kMr, kNr = Tile::kNr;
  if (mr == kMr && nr == kNr) {
    if (first) return Tile::template run<true>(depth, ap, bp, c, ldc);
    return Tile::template run<false>(depth, ap, bp, c, ldc);
  }
  alignas(64) float buffer[kMr * kNr];
  for (int64_t r = 0; r < kMr; ++r)
    for (int64_t j = 0; j < kNr; ++j)
      buffer[r * kNr + j] = (!first && r < mr && j < nr) ? c[r * ldc + j] : 0.0f;
  Tile::template run<false>(depth, ap, bp, buffer, kNr);
  for (int64_t r = 0; r < mr; ++r)
    std::copy(buffer + r * kNr, buffer + r * kNr + nr, c + r * ldc);
}

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};

// Per-thread packing buffers, grown once to the largest block and reused.
float* scratch(std::unique_ptr<float[], AlignedFree>& slot, int64_t& capacity, int64_t floats) {
  if (floats > capacity) {
    const size_t bytes = static_cast<size_t>((floats * 4 + 63) / 64 * 64);
    slot.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
    GRAFT_CHECK(slot != nullptr, "GEMM packing buffer of " << bytes << " bytes: out of memory");
    capacity = floats;
  }
  return slot.get();
}

struct Problem {
  bool ta, tb;
  int64_t m, n, k;
  float alpha;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  float beta;
  float* c;
  int64_t ldc;
};

// The region [i0, i1) x [j0, j1) of C on the calling thread.
template <class Tile>
void run_region(const Problem& g, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  constexpr int64_t kMr = Tile::kMr, kNr = Tile::kNr;
  static_assert(kMc % kMr == 0 && kNc % kNr == 0, "blocks must hold whole tiles");
  thread_local std::unique_ptr<float[], AlignedFree> a_buffer, b_buffer;
  thread_local int64_t a_capacity = 0, b_capacity = 0;
  float* ap = scratch(a_buffer, a_capacity, kMc * kKc);
  float* bp = scratch(b_buffer, b_capacity, kKc * kNc);
  for (int64_t jc = j0; jc < j1; jc += kNc) {
    const int64_t nc = std::min(kNc, j1 - jc);
    for (int64_t pc = 0; pc < g.k; pc += kKc) {
      const int64_t kc = std::min(kKc, g.k - pc);
      pack_b<kNr>(g.b, g.ldb, g.tb, pc, kc, jc, nc, bp);
      for (int64_t ic = i0; ic < i1; ic += kMc) {
        const int64_t mc = std::min(kMc, i1 - ic);
        pack_a<kMr>(g.a, g.lda, g.ta, g.alpha, ic, mc, pc, kc, ap);
        for (int64_t jr = 0; jr < nc; jr += kNr) {
          for (int64_t ir = 0; ir < mc; ir += kMr) {
            tile<Tile>(kc, ap + ir * kc, bp + jr * kc, g.c + (ic + ir) * g.ldc + jc + jr, g.ldc,
                       std::min(kMr, mc - ir), std::min(kNr, nc - jr), pc == 0);
          }
        }
      }
    }
  }
}

int64_t ceil_div(int64_t x, int64_t y) {
  return (x + y - 1) / y;
}

// Splits C into threads = rows_split x cols_split regions on register-tile
// boundaries, choosing the split whose largest region is smallest (ties: the
// one that packs less). Any split gives the same bits.
template <class Tile>
void run_parallel(const Problem& g, int threads) {
  constexpr int64_t kMr = Tile::kMr, kNr = Tile::kNr;
  const int64_t row_tiles = ceil_div(g.m, kMr), col_tiles = ceil_div(g.n, kNr);
  int best_rows = 1;
  int64_t best_cost = -1;
  for (int rows = 1; rows <= threads; ++rows) {
    if (threads % rows != 0) continue;
    const int cols = threads / rows;
    const int64_t rm = ceil_div(row_tiles, rows) * kMr, rn = ceil_div(col_tiles, cols) * kNr;
    // Multiply-adds of the largest region plus what it packs.
    const int64_t cost = rm * rn * g.k + (rm + rn) * g.k;
    if (best_cost < 0 || cost < best_cost) best_cost = cost, best_rows = rows;
  }
  const int rows_split = best_rows, cols_split = threads / best_rows;
  const int64_t rows_per = ceil_div(row_tiles, rows_split) * kMr;
  const int64_t cols_per = ceil_div(col_tiles, cols_split) * kNr;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    const int64_t i0 = (t / cols_split) * rows_per, j0 = (t % cols_split) * cols_per;
    const int64_t i1 = std::min(g.m, i0 + rows_per), j1 = std::min(g.n, j0 + cols_per);
    if (i0 < i1 && j0 < j1) run_region<Tile>(g, i0, i1, j0, j1);
  }
}

// C = beta * C (no products: k == 0).
void scale_only(int64_t m, int64_t n, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      c[i * ldc + j] = combine(beta, c[i * ldc + j], 0.0f);
}

bool avx512_available() {
  static const bool available = __builtin_cpu_supports("avx512f") != 0;
  return available;
}

// GRAFT_GEMM_TILE=avx2 makes an AVX-512 machine time the AVX2 tile (bench/
// uses it to measure what a CPU without AVX-512 would get). It cannot change
// a result: every tile computes the same chains.
GemmTile best_tile() {
  static const GemmTile tile = [] {
    const char* forced = std::getenv("GRAFT_GEMM_TILE");
    if (forced != nullptr && std::string(forced) == "avx2") return GemmTile::avx2;
    return avx512_available() ? GemmTile::avx512 : GemmTile::avx2;
  }();
  return tile;
}

void check_problem(const Problem& g) {
  GRAFT_CHECK(g.m >= 0 && g.n >= 0 && g.k >= 0,
              "GEMM sizes must be non-negative, got m=" << g.m << " n=" << g.n << " k=" << g.k);
  GRAFT_CHECK(g.ldc >= g.n, "GEMM ldc " << g.ldc << " < n " << g.n);
  GRAFT_CHECK(g.lda >= (g.ta ? g.m : g.k), "GEMM lda " << g.lda << " too small");
  GRAFT_CHECK(g.ldb >= (g.tb ? g.k : g.n), "GEMM ldb " << g.ldb << " too small");
}

void run_product(GemmTile tile, const Problem& g, int threads) {
  if (tile == GemmTile::automatic) tile = best_tile();
  GRAFT_CHECK(tile != GemmTile::avx512 || avx512_available(),
              "the AVX-512 GEMM tile needs a CPU with AVX-512F");
  if (tile == GemmTile::avx512) {
    if (threads <= 1) return run_region<gemm_tiles::Avx512>(g, 0, g.m, 0, g.n);
    return run_parallel<gemm_tiles::Avx512>(g, threads);
  }
  if (threads <= 1) return run_region<gemm_tiles::Avx2>(g, 0, g.m, 0, g.n);
  run_parallel<gemm_tiles::Avx2>(g, threads);
}

void run(GemmTile tile, const Problem& g, int threads) {
  check_problem(g);
  if (g.m == 0 || g.n == 0) return;
  if (g.k == 0) {
    scale_only(g.m, g.n, g.beta, g.c, g.ldc);
    return;
  }
  if (g.beta == 0.0f) {
    run_product(tile, g, threads);
    return;
  }
  // Accumulating: the chains run from zero into a scratch block and are
  // added to beta * C at the end, so C += A B adds the same value the product
  // alone would give (two equal passes give exactly twice one).
  thread_local std::unique_ptr<float[], AlignedFree> sum_buffer;
  thread_local int64_t sum_capacity = 0;
  Problem product = g;
  product.c = scratch(sum_buffer, sum_capacity, g.m * g.n);
  product.ldc = g.n;
  product.beta = 0.0f;
  run_product(tile, product, threads);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t i = 0; i < g.m; ++i) {
    float* row = g.c + i * g.ldc;
    const float* sum = product.c + i * g.n;
    for (int64_t j = 0; j < g.n; ++j)
      row[j] = combine(g.beta, row[j], sum[j]);
  }
}

}  // namespace

void gemm_reference(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                    int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float chain = 0.0f;
      for (int64_t p = 0; p < k; ++p) {
        const float av = element(a, lda, ta, i, p);
        chain = std::fma(alpha == 1.0f ? av : alpha * av, element(b, ldb, tb, p, j), chain);
      }
      c[i * ldc + j] = combine(beta, c[i * ldc + j], chain);
    }
  }
}

void gemm_f32_with(GemmTile tile, int threads, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                   float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                   float beta, float* c, int64_t ldc) {
  GRAFT_CHECK(threads >= 1, "GEMM thread count must be >= 1, got " << threads);
  run(tile, Problem{ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc}, threads);
}

template <>
void gemm<float>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const bool small = m * n * k < kParallelMacs;
  const int threads = (omp_in_parallel() || small) ? 1 : omp_get_max_threads();
  run(GemmTile::automatic, Problem{ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc}, threads);
}

// f64: the same chain definition as f32, computed row by row (i, p, j order,
// the j loop vectorised). Only gradient checks and tiny test models run in
// f64, so this favours being obviously the definition over speed; rows are
// independent, so the thread count cannot change a bit.
template <>
void gemm<double>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                  int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  GRAFT_CHECK(m >= 0 && n >= 0 && k >= 0,
              "GEMM sizes must be non-negative, got m=" << m << " n=" << n << " k=" << k);
  GRAFT_CHECK(ldc >= n, "GEMM ldc " << ldc << " < n " << n);
  if (m == 0 || n == 0) return;
  // op(B) as a contiguous [k, n] block, so the inner loop is unit-stride.
  std::vector<double> b_rows;
  const double* bk = b;
  int64_t ldbk = ldb;
  if (tb) {
    b_rows.resize(static_cast<size_t>(k * n));
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p)
        b_rows[p * n + j] = b[j * ldb + p];
    bk = b_rows.data();
    ldbk = n;
  }
#pragma omp parallel for schedule(static) if (m * n * k >= kParallelMacs)
  for (int64_t i = 0; i < m; ++i) {
    std::vector<double> chain(static_cast<size_t>(n), 0.0);
    for (int64_t p = 0; p < k; ++p) {
      const double av = ta ? a[p * lda + i] : a[i * lda + p];
      const double x = alpha == 1.0 ? av : alpha * av;
      const double* brow = bk + p * ldbk;
#pragma omp simd
      for (int64_t j = 0; j < n; ++j)
        chain[j] = std::fma(x, brow[j], chain[j]);
    }
    double* row = c + i * ldc;
    for (int64_t j = 0; j < n; ++j)
      row[j] = beta == 0.0 ? chain[j] : (beta == 1.0 ? row[j] : beta * row[j]) + chain[j];
  }
}

bool gemm_tile_available(GemmTile tile) {
  return tile != GemmTile::avx512 || avx512_available();
}

const char* gemm_engine_name() {
  return best_tile() == GemmTile::avx512
             ? "graft's GEMM, AVX-512 12x32 tiles (same bits as its AVX2 6x16 tiles)"
             : "graft's GEMM, AVX2 6x16 tiles (same bits as its AVX-512 12x32 tiles)";
}

}  // namespace graft::cpu
