#include "ops/cpu/matmul.h"

#include "ops/cpu/gelu_math.h"
#include "ops/cpu/gemm.h"
#include "ops/cpu/parallel.h"

namespace graft::cpu {

namespace {

// One pass over the output: add the bias and apply GELU, keeping the
// pre-activation only when backward will need it.
template <class T>
void bias_gelu_epilogue(T* pre, T* out, const T* bias, int64_t m, int64_t n, bool gelu) {
#pragma omp parallel for schedule(static) if (m * n > kParallelElements)
  for (int64_t i = 0; i < m; ++i) {
    T* p = pre + i * n;
    T* o = out + i * n;
    if (bias != nullptr) {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j)
        p[j] += bias[j];
    }
    if (gelu) {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j)
        o[j] = gelu_value(p[j]);
    }
  }
}

template <class T>
void forward_typed(const MatmulShape& s, const Tensor& a, const Tensor& b, const Tensor& bias,
                   bool gelu, const Tensor& pre, const Tensor& out) {
  // Without a kept pre-activation the GEMM writes straight into out and the
  // epilogue runs in place.
  T* gemm_out = pre.defined() ? pre.data<T>() : out.data<T>();
  const int64_t lda = s.transpose_a ? s.m : s.k;
  const int64_t ldb = s.transpose_b ? s.k : s.n;
  gemm<T>(s.transpose_a, s.transpose_b, s.m, s.n, s.k, T(1), a.data<T>(), lda, b.data<T>(), ldb,
          T(0), gemm_out, s.n);
  const T* bias_ptr = bias.defined() ? bias.data<T>() : nullptr;
  if (bias_ptr != nullptr || gelu) {
    bias_gelu_epilogue(gemm_out, out.data<T>(), bias_ptr, s.m, s.n, gelu);
  }
}

template <class T>
void backward_typed(const MatmulShape& s, const Tensor& a, const Tensor& b, const Tensor& pre,
                    const Tensor& dout, bool gelu, const GradSlot* da, const GradSlot* db,
                    const GradSlot* dbias) {
  const int64_t m = s.m, n = s.n, k = s.k;
  Tensor dpre_tensor = dout;
  if (gelu) {
    dpre_tensor = Tensor::empty(dout.shape(), dout.dtype());
    const T* g = dout.data<T>();
    const T* p = pre.data<T>();
    T* d = dpre_tensor.data<T>();
#pragma omp parallel for simd schedule(static) if (m * n > kParallelElements)
    for (int64_t i = 0; i < m * n; ++i)
      d[i] = g[i] * gelu_derivative(p[i]);
  }
  const T* dpre = dpre_tensor.data<T>();
  const T* a_ptr = a.data<T>();
  const T* b_ptr = b.data<T>();
  const int64_t lda = s.transpose_a ? m : k;
  const int64_t ldb = s.transpose_b ? k : n;
  if (da != nullptr) {
    const T beta = da->accumulate ? T(1) : T(0);
    if (!s.transpose_a) {
      // dA[m,k] = dC[m,n] @ op(B)^T
      gemm<T>(false, !s.transpose_b, m, k, n, T(1), dpre, n, b_ptr, ldb, beta, da->grad.data<T>(),
              k);
    } else {
      // A is [k,m]: dA = op(B) @ dC^T
      gemm<T>(s.transpose_b, true, k, m, n, T(1), b_ptr, ldb, dpre, n, beta, da->grad.data<T>(), m);
    }
  }
  if (db != nullptr) {
    const T beta = db->accumulate ? T(1) : T(0);
    if (!s.transpose_b) {
      // dB[k,n] = op(A)^T @ dC
      gemm<T>(!s.transpose_a, false, k, n, m, T(1), a_ptr, lda, dpre, n, beta, db->grad.data<T>(),
              n);
    } else {
      // B is [n,k]: dB = dC^T @ op(A)
      gemm<T>(true, s.transpose_a, n, k, m, T(1), dpre, n, a_ptr, lda, beta, db->grad.data<T>(), k);
    }
  }
  if (dbias != nullptr) sum_rows(dpre, m, n, dbias->grad.data<T>(), dbias->accumulate);
}

}  // namespace

void matmul_forward(const MatmulShape& s, const Tensor& a, const Tensor& b, const Tensor& bias,
                    bool gelu, const Tensor& pre, const Tensor& out) {
  dispatch_float(a.dtype(), "matmul",
                 [&](auto zero) { forward_typed<decltype(zero)>(s, a, b, bias, gelu, pre, out); });
}

void matmul_backward(const MatmulShape& s, const Tensor& a, const Tensor& b, const Tensor& pre,
                     const Tensor& dout, bool gelu, const GradSlot* da, const GradSlot* db,
                     const GradSlot* dbias) {
  dispatch_float(a.dtype(), "matmul backward", [&](auto zero) {
    backward_typed<decltype(zero)>(s, a, b, pre, dout, gelu, da, db, dbias);
  });
}

}  // namespace graft::cpu
