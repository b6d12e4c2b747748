#include "recipes/objectives/mlm.h"

#include "recipes/objectives/masking.h"

namespace graft::objectives {

LmBatch make_mlm_batch(const Tensor& tokens, const Vocab& vocab, uint64_t seed,
                       const MlmOptions& options) {
  GRAFT_CHECK(tokens.ndim() == 2 && tokens.dtype() == DType::i32,
              "MLM expects i32 [B, T] tokens, got " << tokens.describe());
  GRAFT_CHECK(options.mask_token_frac + options.random_token_frac <= 1.0,
              "MLM mask + random fractions exceed 1");
  const int64_t rows = tokens.dim(0), length = tokens.dim(1);
  LmBatch batch;
  batch.input_ids = tokens.clone();
  batch.attention_mask = Tensor::empty({rows, length}, DType::i32);
  batch.labels = Tensor::full({rows, length}, kIgnoreIndex, DType::i32);
  const int32_t* src = tokens.data<int32_t>();
  int32_t* in = batch.input_ids.data<int32_t>();
  int32_t* mask = batch.attention_mask.data<int32_t>();
  int32_t* labels = batch.labels.data<int32_t>();
  const uint64_t mlm_seed = derive_seed(seed, 0x6d6c6dULL);
  for (int64_t b = 0; b < rows; ++b) {
    const int32_t* row = src + b * length;
    for (int64_t t = 0; t < length; ++t)
      mask[b * length + t] = row[t] != kPadId;
    Rng rng(derive_seed(mlm_seed, static_cast<uint64_t>(b)));
    for (int64_t t : choose_masked_positions({row, static_cast<size_t>(length)}, vocab,
                                             options.mask_prob, rng)) {
      labels[b * length + t] = row[t];
      const double u = rng.uniform();
      if (u < options.mask_token_frac) {
        in[b * length + t] = kMaskId;
      } else if (u < options.mask_token_frac + options.random_token_frac) {
        const uint64_t span = static_cast<uint64_t>(vocab.ordinary_end() - vocab.ordinary_begin());
        in[b * length + t] = vocab.ordinary_begin() + static_cast<int32_t>(rng.below(span));
      }
    }
  }
  return batch;
}

}  // namespace graft::objectives
