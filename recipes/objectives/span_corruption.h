// T5 span corruption, exactly as T5's preprocessors (random_spans_noise_mask,
// noise_span_to_unique_sentinel, nonnoise_span_to_unique_sentinel):
//   num_noise = round(L * density), clamped to [1, L-1]
//   num_spans = max(1, round(num_noise / mean_span_length))
//   noise and non-noise lengths: a random segmentation of each count into
//   num_spans non-empty parts; spans interleave starting with non-noise.
//   inputs  = non-noise tokens, each noise span replaced by one sentinel
//             (<extra_id_0>, <extra_id_1>, ... from the top of the vocab), EOS
//   targets = each sentinel followed by its noise span, ..., EOS
// round() is round-half-to-even, as tf.round is. With density 0.15 and mean
// span 3, 568 raw tokens give exactly 512 input and 114 target tokens.
#pragma once

#include <span>
#include <utility>

#include "recipes/objectives/batch.h"

namespace graft::objectives {

struct SpanCorruptionOptions {
  double noise_density = 0.15;
  double mean_noise_span_length = 3.0;
};

// 1 at noise positions. Needs length >= 2.
std::vector<uint8_t> random_spans_noise_mask(int64_t length, const SpanCorruptionOptions& options,
                                             Rng& rng);

struct SpanCorrupted {
  std::vector<int32_t> inputs;
  std::vector<int32_t> targets;
};

// Applies a noise mask. Encoder inputs keep `encoder_tokens` outside the
// noise; targets carry `target_tokens` inside it (the same row for plain SC;
// SpacTor passes the generator-replaced row and the original row).
SpanCorrupted apply_noise_mask(std::span<const int32_t> encoder_tokens,
                               std::span<const int32_t> target_tokens,
                               const std::vector<uint8_t>& noise_mask, const Vocab& vocab);
// Mask drawn with `rng`, then applied to `tokens`.
SpanCorrupted span_corrupt(std::span<const int32_t> tokens, const Vocab& vocab, Rng& rng,
                           const SpanCorruptionOptions& options = {});

// The inverse: the original tokens from inputs and targets (EOS dropped).
std::vector<int32_t> reconstruct_span_corruption(const std::vector<int32_t>& inputs,
                                                 const std::vector<int32_t>& targets,
                                                 const Vocab& vocab);

// (input length, target length), EOS included, for raw_length tokens.
std::pair<int64_t, int64_t> span_corruption_lengths(int64_t raw_length,
                                                    const SpanCorruptionOptions& options = {});
// The raw length whose inputs fill `inputs_length` as closely as possible
// without exceeding it (T5's compute_input_and_target_lengths): 512 -> 568.
int64_t span_corruption_raw_length(int64_t inputs_length,
                                   const SpanCorruptionOptions& options = {});

// windows: i32 [B, L] raw samples. Rows with pad are corrupted over their
// non-pad prefix; inputs and targets are padded to the longest row.
Seq2SeqBatch make_span_corruption_batch(const Tensor& windows, const Vocab& vocab, uint64_t seed,
                                        const SpanCorruptionOptions& options = {});

// The non-pad prefix length of a row.
int64_t unpadded_length(std::span<const int32_t> row);

}  // namespace graft::objectives
