#include "ops/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/cpu/gemm.h"
#include "ops/cpu/parallel.h"

namespace graft::cpu {

namespace {

// C[m,n] = alpha * op(A) op(B) + beta * C over row-strided slices. A zero inner
// dimension (no keys, or no queries for dK/dV) still has to leave C defined
// when beta is 0, because a fresh gradient slot is uninitialised; this does
// not rely on how a given BLAS treats k == 0.
template <class T>
void product(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
             const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (k == 0) {
    if (beta == T(0)) {
      for (int64_t i = 0; i < m; ++i)
        std::fill(c + i * ldc, c + i * ldc + n, T(0));
    }
    return;
  }
  gemm<T>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// Number of keys query row i may see before the padding mask: the sequences
// are aligned at their ends, so row i sees keys j <= i + (Tk - Tq).
inline int64_t visible_keys(const AttentionShape& s, int64_t i) {
  if (!s.causal) return s.k_len;
  return std::clamp<int64_t>(i + s.k_len - s.q_len + 1, 0, s.k_len);
}

// Each (batch, head) pair is one task; its GEMMs run single-threaded inside
// the region (OpenMP BLAS), which beats threading small per-head GEMMs. With
// a single pair the region stays inactive so the BLAS can thread instead.
inline bool parallel_over_pairs(const AttentionShape& s) {
  return s.batch * s.heads > 1 && s.scores() * s.head_dim > kParallelElements;
}

// Row softmax of the scores in place, masked entries set to exactly 0 so that
// a masked key contributes nothing downstream; a row with no visible key
// becomes all zeros.
template <class T>
void masked_softmax_rows(const AttentionShape& s, const int32_t* key_mask, T* p) {
  const int64_t tk = s.k_len;
  for (int64_t i = 0; i < s.q_len; ++i) {
    T* row = p + i * tk;
    const int64_t end = visible_keys(s, i);
    T max = -std::numeric_limits<T>::infinity();
    bool any = false;
    for (int64_t j = 0; j < end; ++j) {
      if (key_mask != nullptr && key_mask[j] == 0) continue;
      max = std::max(max, row[j]);
      any = true;
    }
    if (!any) {
      std::fill(row, row + tk, T(0));
      continue;
    }
    T sum = 0;
    for (int64_t j = 0; j < end; ++j) {
      if (key_mask != nullptr && key_mask[j] == 0) {
        row[j] = T(0);
      } else {
        row[j] = std::exp(row[j] - max);
        sum += row[j];
      }
    }
    std::fill(row + end, row + tk, T(0));
    const T inv = T(1) / sum;
#pragma omp simd
    for (int64_t j = 0; j < end; ++j)
      row[j] *= inv;
  }
}

template <class T>
void forward_typed(const AttentionShape& s, const Tensor& q, const Tensor& k, const Tensor& v,
                   const Tensor& mask, const Tensor& probs, const Tensor& out) {
  const int64_t tq = s.q_len, tk = s.k_len, dh = s.head_dim, e = s.model_dim();
  const int64_t pairs = s.batch * s.heads;
  const T scale = static_cast<T>(s.scale);
  const T* q_ptr = q.data<T>();
  const T* k_ptr = k.data<T>();
  const T* v_ptr = v.data<T>();
  const int32_t* mask_ptr = mask.defined() ? mask.data<int32_t>() : nullptr;
  T* probs_ptr = probs.defined() ? probs.data<T>() : nullptr;
  T* out_ptr = out.data<T>();
#pragma omp parallel if (parallel_over_pairs(s))
  {
    std::vector<T> scratch(probs_ptr == nullptr ? static_cast<size_t>(tq * tk) : 0);
#pragma omp for schedule(static)
    for (int64_t pair = 0; pair < pairs; ++pair) {
      const int64_t b = pair / s.heads, h = pair % s.heads;
      const T* qs = q_ptr + b * tq * e + h * dh;
      const T* ks = k_ptr + b * tk * e + h * dh;
      const T* vs = v_ptr + b * tk * e + h * dh;
      T* p = probs_ptr != nullptr ? probs_ptr + pair * tq * tk : scratch.data();
      product<T>(false, true, tq, tk, dh, scale, qs, e, ks, e, T(0), p, tk);
      masked_softmax_rows(s, mask_ptr != nullptr ? mask_ptr + b * tk : nullptr, p);
      product<T>(false, false, tq, dh, tk, T(1), p, tk, vs, e, T(0), out_ptr + b * tq * e + h * dh,
                 e);
    }
  }
}

template <class T>
void backward_typed(const AttentionShape& s, const Tensor& q, const Tensor& k, const Tensor& v,
                    const Tensor& probs, const Tensor& dout, const GradSlot* dq, const GradSlot* dk,
                    const GradSlot* dv) {
  const int64_t tq = s.q_len, tk = s.k_len, dh = s.head_dim, e = s.model_dim();
  const int64_t pairs = s.batch * s.heads;
  const T scale = static_cast<T>(s.scale);
  const bool need_ds = dq != nullptr || dk != nullptr;
  const T* q_ptr = q.data<T>();
  const T* k_ptr = k.data<T>();
  const T* v_ptr = v.data<T>();
  const T* probs_ptr = probs.data<T>();
  const T* dout_ptr = dout.data<T>();
  T* dq_ptr = dq != nullptr ? dq->grad.data<T>() : nullptr;
  T* dk_ptr = dk != nullptr ? dk->grad.data<T>() : nullptr;
  T* dv_ptr = dv != nullptr ? dv->grad.data<T>() : nullptr;
  const T beta_q = dq != nullptr && dq->accumulate ? T(1) : T(0);
  const T beta_k = dk != nullptr && dk->accumulate ? T(1) : T(0);
  const T beta_v = dv != nullptr && dv->accumulate ? T(1) : T(0);
#pragma omp parallel if (parallel_over_pairs(s))
  {
    std::vector<T> ds(need_ds ? static_cast<size_t>(tq * tk) : 0);
#pragma omp for schedule(static)
    for (int64_t pair = 0; pair < pairs; ++pair) {
      const int64_t b = pair / s.heads, h = pair % s.heads;
      const int64_t q_off = b * tq * e + h * dh, k_off = b * tk * e + h * dh;
      const T* p = probs_ptr + pair * tq * tk;
      const T* dos = dout_ptr + q_off;
      if (need_ds) {
        // dP = dO V^T, then dS = P * (dP - rowsum(dP * P)) in place. Masked
        // and fully masked entries have P == 0, so their dS is exactly 0.
        product<T>(false, true, tq, tk, dh, T(1), dos, e, v_ptr + k_off, e, T(0), ds.data(), tk);
        for (int64_t i = 0; i < tq; ++i) {
          const T* prow = p + i * tk;
          T* row = ds.data() + i * tk;
          T dot = 0;
          for (int64_t j = 0; j < tk; ++j)
            dot += row[j] * prow[j];
#pragma omp simd
          for (int64_t j = 0; j < tk; ++j)
            row[j] = prow[j] * (row[j] - dot);
        }
        if (dq_ptr != nullptr) {
          product<T>(false, false, tq, dh, tk, scale, ds.data(), tk, k_ptr + k_off, e, beta_q,
                     dq_ptr + q_off, e);
        }
        if (dk_ptr != nullptr) {
          product<T>(true, false, tk, dh, tq, scale, ds.data(), tk, q_ptr + q_off, e, beta_k,
                     dk_ptr + k_off, e);
        }
      }
      if (dv_ptr != nullptr) {
        product<T>(true, false, tk, dh, tq, T(1), p, tk, dos, e, beta_v, dv_ptr + k_off, e);
      }
    }
  }
}

}  // namespace

void attention_forward(const AttentionShape& s, const Tensor& q, const Tensor& k, const Tensor& v,
                       const Tensor& mask, const Tensor& probs, const Tensor& out) {
  dispatch_float(q.dtype(), "scaled_dot_product_attention",
                 [&](auto zero) { forward_typed<decltype(zero)>(s, q, k, v, mask, probs, out); });
}

void attention_backward(const AttentionShape& s, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& probs, const Tensor& dout, const GradSlot* dq,
                        const GradSlot* dk, const GradSlot* dv) {
  dispatch_float(q.dtype(), "scaled_dot_product_attention backward", [&](auto zero) {
    backward_typed<decltype(zero)>(s, q, k, v, probs, dout, dq, dk, dv);
  });
}

}  // namespace graft::cpu
