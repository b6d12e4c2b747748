#include "ops/cpu/blas.h"

#include <cblas.h>

#include <limits>

#include "ops/check.h"

namespace graft::cpu {

namespace {
int narrow(int64_t v, const char* what) {
  GRAFT_CHECK(v >= 0 && v <= std::numeric_limits<int>::max(),
              "GEMM " << what << " " << v << " exceeds BLAS int range");
  return static_cast<int>(v);
}
CBLAS_TRANSPOSE flag(bool transpose) {
  return transpose ? CblasTrans : CblasNoTrans;
}
}  // namespace

template <>
void blas_gemm<float>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                      const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                      float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, flag(ta), flag(tb), narrow(m, "m"), narrow(n, "n"), narrow(k, "k"),
              alpha, a, narrow(lda, "lda"), b, narrow(ldb, "ldb"), beta, c, narrow(ldc, "ldc"));
}

template <>
void blas_gemm<double>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
                       const double* a, int64_t lda, const double* b, int64_t ldb, double beta,
                       double* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  cblas_dgemm(CblasRowMajor, flag(ta), flag(tb), narrow(m, "m"), narrow(n, "n"), narrow(k, "k"),
              alpha, a, narrow(lda, "lda"), b, narrow(ldb, "ldb"), beta, c, narrow(ldc, "ldc"));
}

const char* blas_name() {
  return GRAFT_BLAS_NAME;
}

}  // namespace graft::cpu
