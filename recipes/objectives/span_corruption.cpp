#include "recipes/objectives/span_corruption.h"

#include <algorithm>
#include <cmath>

namespace graft::objectives {

namespace {

int64_t round_half_even(double x) {
  return static_cast<int64_t>(std::nearbyint(x));
}

struct SpanCounts {
  int64_t noise, spans;
};

SpanCounts span_counts(int64_t length, const SpanCorruptionOptions& options) {
  int64_t noise = round_half_even(static_cast<double>(length) * options.noise_density);
  noise = std::min(std::max<int64_t>(noise, 1), length - 1);
  int64_t spans = round_half_even(static_cast<double>(noise) / options.mean_noise_span_length);
  spans = std::max<int64_t>(spans, 1);
  // More spans than non-noise tokens would need empty segments (T5 leaves
  // this degenerate case undefined; it only arises for very short rows).
  spans = std::min({spans, noise, length - noise});
  return {noise, spans};
}

// T5's _random_segmentation: num_items split into num_segments non-empty
// parts, every such split equally likely.
std::vector<int64_t> random_segmentation(int64_t num_items, int64_t num_segments, Rng& rng) {
  std::vector<uint8_t> first_in_segment(static_cast<size_t>(num_items - 1), 0);
  std::fill(first_in_segment.begin(), first_in_segment.begin() + (num_segments - 1), 1);
  rng.shuffle(first_in_segment.begin(), first_in_segment.end());
  std::vector<int64_t> lengths(static_cast<size_t>(num_segments), 0);
  int64_t segment = 0;
  lengths[0] = 1;
  for (uint8_t starts : first_in_segment) {
    segment += starts;
    ++lengths[static_cast<size_t>(segment)];
  }
  return lengths;
}

}  // namespace

std::vector<uint8_t> random_spans_noise_mask(int64_t length, const SpanCorruptionOptions& options,
                                             Rng& rng) {
  GRAFT_CHECK(length >= 2, "span corruption needs at least 2 tokens, got " << length);
  const SpanCounts counts = span_counts(length, options);
  const std::vector<int64_t> noise = random_segmentation(counts.noise, counts.spans, rng);
  const std::vector<int64_t> nonnoise =
      random_segmentation(length - counts.noise, counts.spans, rng);
  std::vector<uint8_t> mask;
  mask.reserve(static_cast<size_t>(length));
  for (int64_t s = 0; s < counts.spans; ++s) {
    mask.insert(mask.end(), static_cast<size_t>(nonnoise[s]), 0);
    mask.insert(mask.end(), static_cast<size_t>(noise[s]), 1);
  }
  return mask;
}

SpanCorrupted apply_noise_mask(std::span<const int32_t> encoder_tokens,
                               std::span<const int32_t> target_tokens,
                               const std::vector<uint8_t>& noise_mask, const Vocab& vocab) {
  GRAFT_CHECK(
      encoder_tokens.size() == noise_mask.size() && target_tokens.size() == noise_mask.size(),
      "noise mask of " << noise_mask.size() << " for rows of " << encoder_tokens.size() << " and "
                       << target_tokens.size());
  SpanCorrupted out;
  int span = -1;
  for (size_t i = 0; i < noise_mask.size(); ++i) {
    if (!noise_mask[i]) {
      out.inputs.push_back(encoder_tokens[i]);
      continue;
    }
    if (i == 0 || !noise_mask[i - 1]) {
      ++span;
      GRAFT_INPUT_CHECK(span < kNumSentinels, "span corruption needs more than "
                                                  << kNumSentinels
                                                  << " sentinels: shorten the samples");
      out.inputs.push_back(vocab.sentinel(span));
      out.targets.push_back(vocab.sentinel(span));
    }
    out.targets.push_back(target_tokens[i]);
  }
  out.inputs.push_back(kEosId);
  out.targets.push_back(kEosId);
  return out;
}

SpanCorrupted span_corrupt(std::span<const int32_t> tokens, const Vocab& vocab, Rng& rng,
                           const SpanCorruptionOptions& options) {
  const auto mask = random_spans_noise_mask(static_cast<int64_t>(tokens.size()), options, rng);
  return apply_noise_mask(tokens, tokens, mask, vocab);
}

std::vector<int32_t> reconstruct_span_corruption(const std::vector<int32_t>& inputs,
                                                 const std::vector<int32_t>& targets,
                                                 const Vocab& vocab) {
  // Spans of the targets, keyed by their sentinel.
  std::vector<std::vector<int32_t>> spans;
  for (size_t i = 0; i < targets.size(); ++i) {
    const int32_t id = targets[i];
    if (i + 1 == targets.size() && id == kEosId) break;
    if (vocab.is_sentinel(id)) {
      GRAFT_CHECK(id == vocab.sentinel(static_cast<int>(spans.size())),
                  "targets' sentinels out of order at " << i);
      spans.emplace_back();
    } else {
      GRAFT_CHECK(!spans.empty(), "targets do not start with a sentinel");
      spans.back().push_back(id);
    }
  }
  std::vector<int32_t> original;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const int32_t id = inputs[i];
    if (i + 1 == inputs.size() && id == kEosId) break;
    if (vocab.is_sentinel(id)) {
      const auto k = static_cast<size_t>(vocab.size - 1 - id);
      GRAFT_CHECK(k < spans.size(), "input sentinel " << k << " has no target span");
      original.insert(original.end(), spans[k].begin(), spans[k].end());
    } else {
      original.push_back(id);
    }
  }
  return original;
}

std::pair<int64_t, int64_t> span_corruption_lengths(int64_t raw_length,
                                                    const SpanCorruptionOptions& options) {
  const SpanCounts c = span_counts(raw_length, options);
  return {raw_length - c.noise + c.spans + 1, c.noise + c.spans + 1};
}

int64_t span_corruption_raw_length(int64_t inputs_length, const SpanCorruptionOptions& options) {
  int64_t raw = inputs_length - 1;
  while (span_corruption_lengths(raw + 1, options).first <= inputs_length)
    ++raw;
  return raw;
}

int64_t unpadded_length(std::span<const int32_t> row) {
  int64_t n = static_cast<int64_t>(row.size());
  while (n > 0 && row[static_cast<size_t>(n - 1)] == kPadId)
    --n;
  return n;
}

Seq2SeqBatch make_span_corruption_batch(const Tensor& windows, const Vocab& vocab, uint64_t seed,
                                        const SpanCorruptionOptions& options) {
  const auto rows = tensor_rows(windows);
  std::vector<std::vector<int32_t>> inputs, targets;
  const uint64_t sc_seed = derive_seed(seed, 0x7370616eULL);
  for (size_t b = 0; b < rows.size(); ++b) {
    Rng rng(derive_seed(sc_seed, b));
    std::span<const int32_t> row(rows[b]);
    SpanCorrupted c =
        span_corrupt(row.first(static_cast<size_t>(unpadded_length(row))), vocab, rng, options);
    inputs.push_back(std::move(c.inputs));
    targets.push_back(std::move(c.targets));
  }
  Seq2SeqBatch batch;
  batch.input_ids = pad_rows(inputs, kPadId);
  batch.attention_mask = mask_rows(inputs);
  set_decoder_side(batch, targets);
  return batch;
}

}  // namespace graft::objectives
