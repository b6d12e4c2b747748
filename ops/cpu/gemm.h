// Row-major GEMM for every CPU matmul and attention product:
//   C[m,n] = beta * C + (alpha op(A)[m,k]) op(B)[k,n]
// with op = transpose when the flag is set; lda/ldb/ldc are row strides, so
// head slices of a [T, H*Dh] activation are passed without copying.
//
// f32 runs graft's own kernel, whose result is defined by its arithmetic
// alone, not by how the work is split:
//   chain = 0
//   for p = 0 .. k-1 in order:  chain = fma(alpha_a[i,p], op(B)[p,j], chain)
//   C = beta == 0 ? chain : (beta == 1 ? C : beta * C) + chain
// where alpha_a = op(A) when alpha == 1, else the rounded product alpha *
// op(A)[i,p]. (The chain starts from zero, not from C, so accumulating a
// product adds exactly the value the product alone gives.) Every element is one chain of fused
// multiply-adds in index order; blocking, the SIMD width and the threads only decide which core
// evaluates which chain, never the chain. So the bits are the same for any
// thread count and any x86-64 CPU with FMA (graft builds for x86-64-v3; the
// AVX-512 tiles where the CPU has them give the same chains), and
// no BLAS build or run-time kernel choice (OPENBLAS_CORETYPE) can change them.
// gemm_reference() below is that definition written as a plain loop; tests
// compare the two bit for bit.
//
// f64 (gradient checks and tiny test models) follows the same definition with a
// simple row-by-row loop. No training GEMM goes to a BLAS library; the BLAS
// graft links (ops/cpu/blas.h) is there for side-by-side benchmarks.
#pragma once

#include <cstdint>

namespace graft::cpu {

template <class T>
void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// The f32 definition above, one element at a time: the specification the
// blocked kernel must match exactly, and a baseline for bench/.
void gemm_reference(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k,
                    float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                    float beta, float* c, int64_t ldc);

// Register tiles (ops/cpu/gemm_tiles.h); automatic picks AVX-512 where the CPU
// has it. Every tile gives the same bits.
enum class GemmTile { automatic, avx2, avx512 };
bool gemm_tile_available(GemmTile tile);

// The blocked kernel with a given tile on exactly `threads` threads (>= 1),
// however many OpenMP would give; gemm() uses the automatic tile and
// omp_get_max_threads(), or one thread inside a parallel region. Tests use
// this to show the bits depend on neither.
void gemm_f32_with(GemmTile tile, int threads, bool transpose_a, bool transpose_b, int64_t m,
                   int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b,
                   int64_t ldb, float beta, float* c, int64_t ldc);

// What runs f32 GEMMs, for `graft info` and benchmark contexts.
const char* gemm_engine_name();

}  // namespace graft::cpu
