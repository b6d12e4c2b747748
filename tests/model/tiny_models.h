// Small configs and inputs shared by the model tests: every kind, every head,
// in sizes where float64 finite differences over whole models stay fast.
#pragma once

#include <random>
#include <vector>

#include "model/config.h"
#include "ops/tensor.h"

namespace graft::testing {

// d=8, 2 heads, d_ff=12, 2 layers per stack, V=11, every head the kind
// supports (the classifier with 3 classes), dropout 0.
inline ModelConfig tiny_config(ModelKind kind) {
  ModelConfig c;
  c.kind = kind;
  c.vocab_size = 11;
  c.d_model = 8;
  c.num_heads = 2;
  c.d_ff = 12;
  c.encoder_layers = kind == ModelKind::decoder ? 0 : 2;
  c.decoder_layers = kind == ModelKind::encoder ? 0 : 2;
  c.max_positions = 9;
  c.dropout = 0.0;
  c.init_std = 0.5;  // large enough that every path matters to the loss
  c.lm_head = true;
  c.mlm_head = true;
  c.rtd_head = true;
  c.num_classes = 3;
  return c;
}

inline Tensor ids_tensor(const std::vector<int32_t>& values, int64_t batch) {
  return Tensor::from_vector(values, {batch, static_cast<int64_t>(values.size()) / batch});
}

inline Tensor random_ids(int64_t batch, int64_t len, int32_t vocab, std::mt19937_64& rng) {
  std::uniform_int_distribution<int32_t> dist(0, vocab - 1);
  std::vector<int32_t> v(static_cast<size_t>(batch * len));
  for (int32_t& x : v)
    x = dist(rng);
  return Tensor::from_vector(v, {batch, len});
}

}  // namespace graft::testing
