// scaled_dot_product_attention: softmax(scale * Q K^T + masks) V per head.
//
//   q: [B, Tq, H*Dh]; k, v: [B, Tk, H*Dh], f32 or f64 (CPU), f32 or bf16 (CUDA), heads contiguous
//   in the last dim (as a linear layer produces them); out: [B, Tq, H*Dh]. causal: query i sees
//   keys j <= i + (Tk - Tq), i.e. the two sequences are aligned at their ends; key_padding_mask:
//   optional i32 [B, Tk], nonzero = real key, 0 = padding. A masked key has exactly zero influence
//   on the output and on every gradient (its k and v get zero gradient); a query row with no
//   visible key outputs zeros and gets a zero gradient. scale: 0 means 1/sqrt(Dh).
//
// FLOPs (attention): forward 2*B*H*Tq*Tk*Dh for S = Q K^T plus as much for
// O = P V, counted in full even when causal, because the CPU kernel executes
// the full GEMMs and masks afterwards. Backward 2*B*H*Tq*Tk*Dh per product
// executed: dP = dO V^T (when q or k wants a gradient), dV = P^T dO (v),
// dQ = dS K (q), dK = dS^T Q (k).
// FLOPs (other): softmax forward 5 per score (max, subtract, exp, sum,
// normalise); backward 4 per score when dS is formed (product and sum for
// rowsum(dP*P), subtract and multiply for dS).
#pragma once

#include <cstdint>

#include "ops/tensor.h"

namespace graft {

struct AttentionOptions {
  int64_t num_heads = 1;
  bool causal = false;      // query i sees keys j <= i + (Tk - Tq)
  Tensor key_padding_mask;  // optional i32 [B, Tk]: 1 = real key, 0 = padding (ignored)
  double scale = 0.0;       // 0 means 1/sqrt(head_dim)
};

// Bidirectional, causal and cross attention (Tq != Tk) all go through here.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const AttentionOptions& options);

}  // namespace graft

namespace graft {

// The geometry an attention call resolved from its operands, handed to the
// kernels.
struct AttentionShape {
  int64_t batch = 0, q_len = 0, k_len = 0, heads = 0, head_dim = 0;
  double scale = 0.0;
  bool causal = false;
  int64_t model_dim() const { return heads * head_dim; }
  // Rows x columns of every per-(batch, head) score matrix, summed.
  int64_t scores() const { return batch * heads * q_len * k_len; }
};

}  // namespace graft
