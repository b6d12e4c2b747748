// rotary_embedding (RoPE), GPT-NeoX / LLaMA "rotate_half" convention.
//
//   x: [B, T, H * Dh] f32/f64 (CPU) or f32/bf16 (CUDA), the H heads contiguous in the last dim, Dh
//   even.
// Within each head, the pair (x[i], x[i + Dh/2]) for i < Dh/2 is rotated by
// angle pos * base^(-2i/Dh), pos = position_offset + t:
//   y[i] = x[i] cos - x[i + Dh/2] sin,  y[i + Dh/2] = x[i + Dh/2] cos + x[i] sin.
// Backward applies the inverse rotation to dout. The angles are computed in
// double whatever x's dtype, then rounded.
// FLOPs (FlopsKind::other), N = x.numel(): forward 3 per element (4 mul and
// 2 add per pair); backward the same. The sin/cos table is not counted.
#pragma once

#include <cstdint>

#include "ops/tensor.h"

namespace graft {

Tensor rotary_embedding(const Tensor& x, int64_t num_heads, int64_t position_offset = 0,
                        double base = 10000.0);

}  // namespace graft
