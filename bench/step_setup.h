// The two training-step configurations bench_step and bench_dp time (and
// bench/compare_pytorch.py mirrors in PyTorch): the `small` presets of
// model/config.h for a GPT-style decoder and a T5-style encoder-decoder, with
// a fixed batch of random token ids. Kept in one place so the single-rank
// benchmark, the data-parallel one and the PyTorch script cannot drift apart.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/flops.h"
#include "model/model.h"
#include "train/batch.h"
#include "train/task.h"

namespace graft::bench {

struct StepConfig {
  std::string name;  // "gpt" or "t5"
  ModelConfig model;
  int64_t batch = 16;
  int64_t encoder_len = 0;  // 0 for a decoder
  int64_t decoder_len = 128;

  StepShape shape() const { return {batch, encoder_len, decoder_len}; }
  int64_t tokens_per_step() const { return batch * (encoder_len + decoder_len); }
};

// gpt: model_preset(decoder, "small") = V 8192, d 256, 4 heads, d_ff 1024,
// 4 layers, 128 learned positions, pre-norm LayerNorm, GELU (tanh), tied
// embeddings, dropout 0.1; batch 16 x 128 tokens.
// t5: model_preset(encoder_decoder, "small") = the same widths with 4 encoder
// + 4 decoder layers (the decoder with cross-attention); batch 16 with 128
// encoder and 128 decoder positions.
inline std::vector<StepConfig> step_configs() {
  StepConfig gpt{"gpt", model_preset(ModelKind::decoder, "small"), 16, 0, 128};
  StepConfig t5{"t5", model_preset(ModelKind::encoder_decoder, "small"), 16, 128, 128};
  return {gpt, t5};
}

inline Tensor random_ids(int64_t batch, int64_t len, int64_t vocab, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(vocab - 1));
  std::vector<int32_t> ids(static_cast<size_t>(batch * len));
  for (int32_t& id : ids)
    id = pick(rng);
  return Tensor::from_vector(ids, {batch, len});
}

// Random ids and targets; no padding, so every position counts (the FLOPs
// formulas and PyTorch see the same work). seed differs per data-parallel rank.
inline Batch random_batch(const StepConfig& c, uint64_t seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  Batch b;
  b.input_ids = random_ids(c.batch, c.decoder_len, c.model.vocab_size, rng);
  b.targets = random_ids(c.batch, c.decoder_len, c.model.vocab_size, rng);
  if (c.encoder_len > 0)
    b.encoder_ids = random_ids(c.batch, c.encoder_len, c.model.vocab_size, rng);
  return b;
}

inline int64_t parameter_count(const Model& model) {
  int64_t n = 0;
  for (const NamedParameter& p : model.parameters().entries())
    n += p.tensor.numel();
  return n;
}

}  // namespace graft::bench
