// Tiny models and token windows shared by the recipe-task tests. The vocab
// has 128 ids (the fewest data/vocab.h allows: specials, 21 ordinary tokens,
// 100 sentinels), so samples often equal the original.
#pragma once

#include <vector>

#include "data/random.h"
#include "data/vocab.h"
#include "model/config.h"
#include "ops/tensor.h"

namespace graft::testing {

inline ModelConfig tiny_recipe_config(ModelKind kind) {
  ModelConfig c;
  c.kind = kind;
  c.vocab_size = 128;
  c.d_model = 16;
  c.num_heads = 2;
  c.d_ff = 32;
  c.encoder_layers = 2;
  c.decoder_layers = kind == ModelKind::encoder ? 0 : 2;
  c.max_positions = 32;
  c.dropout = 0.0;
  c.init_std = 0.3;
  c.lm_head = kind != ModelKind::encoder;
  c.mlm_head = false;
  c.rtd_head = false;
  return c;
}

// Rows of ordinary tokens, the last `pad` positions of row 0 padding.
inline Tensor ordinary_windows(int64_t rows, int64_t len, uint64_t seed, int64_t pad = 0) {
  const Vocab vocab(128);
  Rng rng(seed);
  std::vector<int32_t> v(static_cast<size_t>(rows * len));
  for (auto& x : v)
    x = vocab.ordinary_begin() + static_cast<int32_t>(rng.below(static_cast<uint64_t>(
                                     vocab.ordinary_end() - vocab.ordinary_begin())));
  for (int64_t i = len - pad; i < len; ++i)
    v[static_cast<size_t>(i)] = kPadId;
  return Tensor::from_vector(v, {rows, len});
}

}  // namespace graft::testing
