// Batches the objectives produce: plain structs of i32 tensors on the CPU.
// Labels hold kIgnoreIndex (-100) where no loss is taken; attention masks are
// 1 for real tokens and 0 for padding.
//
// Randomness: every objective takes a `seed` that the caller derives from
// (run seed, step) (objective_seed below); row b of a batch then draws from
// Rng(derive_seed(seed, b)). A batch is thus a pure function of its inputs.
#pragma once

#include <cstdint>
#include <vector>

#include "data/random.h"
#include "data/vocab.h"
#include "ops/tensor.h"

namespace graft::objectives {

// The seed for the objective's randomness at one training step.
inline uint64_t objective_seed(uint64_t run_seed, int64_t step) {
  return derive_seed(derive_seed(run_seed, 0x6f626a65ULL), static_cast<uint64_t>(step));
}

// Decoder-only or encoder-only: inputs and per-position labels.
struct LmBatch {
  Tensor input_ids;       // [B, T]
  Tensor attention_mask;  // [B, T]
  Tensor labels;          // [B, T], kIgnoreIndex where no loss
};

// Encoder-decoder: decoder_input_ids are the labels shifted right behind a
// start token (pad, as in T5).
struct Seq2SeqBatch {
  Tensor input_ids;               // [B, S]
  Tensor attention_mask;          // [B, S]
  Tensor decoder_input_ids;       // [B, T]
  Tensor decoder_attention_mask;  // [B, T]
  Tensor labels;                  // [B, T], kIgnoreIndex at padding
};

struct ClassificationBatch {
  Tensor input_ids;       // [B, T], [CLS] first
  Tensor attention_mask;  // [B, T]
  Tensor labels;          // [B]
};

// Rows (possibly of different lengths) padded with `pad` to `length` (0: the
// longest row) into an i32 [rows, length] tensor. Longer rows are an error.
Tensor pad_rows(const std::vector<std::vector<int32_t>>& rows, int32_t pad, int64_t length = 0);
// 1 where a row has a token, 0 in its padding.
Tensor mask_rows(const std::vector<std::vector<int32_t>>& rows, int64_t length = 0);
// Rows of an i32 [B, T] tensor.
std::vector<std::vector<int32_t>> tensor_rows(const Tensor& tokens);
// Builds the decoder side of a Seq2SeqBatch from target rows (each ending in
// EOS): labels = targets, decoder inputs = [pad] + targets[:-1].
void set_decoder_side(Seq2SeqBatch& batch, const std::vector<std::vector<int32_t>>& targets,
                      int64_t length = 0);

}  // namespace graft::objectives
