// Row-major GEMM through the linked BLAS library (OpenBLAS or BLIS, OpenMP
// builds): f64 GEMMs, and the side-by-side comparisons in bench/. f32
// training GEMMs do not come here: ops/cpu/gemm.h says why.
// C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, with op = transpose when
// the flag is set; lda/ldb/ldc are row strides.
#pragma once

#include <cstdint>

namespace graft::cpu {

template <class T>
void blas_gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, T alpha,
               const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

const char* blas_name();

}  // namespace graft::cpu
