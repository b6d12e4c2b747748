#include "recipes/objectives/rtd.h"

#include "recipes/objectives/masking.h"

namespace graft::objectives {

RtdMasking make_rtd_masking(const Tensor& tokens, const Vocab& vocab, uint64_t seed,
                            const RtdOptions& options) {
  GRAFT_CHECK(tokens.ndim() == 2 && tokens.dtype() == DType::i32,
              "RTD expects i32 [B, T] tokens, got " << tokens.describe());
  const int64_t rows = tokens.dim(0), length = tokens.dim(1);
  RtdMasking m;
  m.original = tokens.clone();
  m.generator_input = tokens.clone();
  m.attention_mask = Tensor::empty({rows, length}, DType::i32);
  m.masked = Tensor::zeros({rows, length}, DType::i32);
  m.generator_labels = Tensor::full({rows, length}, kIgnoreIndex, DType::i32);
  const int32_t* src = tokens.data<int32_t>();
  int32_t* gen = m.generator_input.data<int32_t>();
  int32_t* attn = m.attention_mask.data<int32_t>();
  int32_t* masked = m.masked.data<int32_t>();
  int32_t* labels = m.generator_labels.data<int32_t>();
  const uint64_t rtd_seed = derive_seed(seed, 0x727464ULL);
  for (int64_t b = 0; b < rows; ++b) {
    const int32_t* row = src + b * length;
    for (int64_t t = 0; t < length; ++t)
      attn[b * length + t] = row[t] != kPadId;
    Rng rng(derive_seed(rtd_seed, static_cast<uint64_t>(b)));
    for (int64_t t : choose_masked_positions({row, static_cast<size_t>(length)}, vocab,
                                             options.mask_prob, rng)) {
      masked[b * length + t] = 1;
      labels[b * length + t] = row[t];
      if (rng.uniform() < options.mask_token_frac) gen[b * length + t] = kMaskId;
    }
  }
  return m;
}

RtdBatch make_rtd_batch(const RtdMasking& masking, const Tensor& sampled) {
  GRAFT_CHECK(sampled.shape() == masking.original.shape() && sampled.dtype() == DType::i32,
              "samples " << sampled.describe() << " for tokens " << masking.original.describe());
  RtdBatch batch;
  batch.input_ids = masking.original.clone();
  batch.attention_mask = masking.attention_mask.clone();
  batch.labels = Tensor::empty(masking.original.shape(), DType::i32);
  const int64_t n = masking.original.numel();
  const int32_t* orig = masking.original.data<int32_t>();
  const int32_t* masked = masking.masked.data<int32_t>();
  const int32_t* attn = masking.attention_mask.data<int32_t>();
  const int32_t* samples = sampled.data<int32_t>();
  int32_t* in = batch.input_ids.data<int32_t>();
  int32_t* labels = batch.labels.data<int32_t>();
  for (int64_t i = 0; i < n; ++i) {
    if (masked[i]) in[i] = samples[i];
    labels[i] = attn[i] ? static_cast<int32_t>(in[i] != orig[i]) : kIgnoreIndex;
  }
  return batch;
}

}  // namespace graft::objectives
