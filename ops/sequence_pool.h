// sequence_pool: one vector per sequence from [B, T, D] hidden states, what a
// sequence-classification head reads.
//
//   x: [B, T, D] f32/f64 on the CPU, f32/bf16 on CUDA; out: [B, D].
//   PoolMode::first_token: out[b] = x[b, 0] (BERT's [CLS] position).
//   PoolMode::mean: out[b] = sum_t m[b,t] x[b,t] / sum_t m[b,t] with mask m
//     (i32 [B, T], nonzero = real token, 0 = padding; undefined = all real);
//     a sequence with no real token pools to zeros and gets zero gradient.
// Backward scatters dout back to the pooled positions (zeros elsewhere).
// FLOPs (FlopsKind::other): first_token 0 (a copy) both ways; mean B*T*D
// forward (one multiply-add per element, the division per output is folded
// in) and B*T*D backward.
#pragma once

#include "ops/tensor.h"

namespace graft {

enum class PoolMode { first_token, mean };

Tensor sequence_pool(const Tensor& x, PoolMode mode, const Tensor& mask = Tensor());

}  // namespace graft
