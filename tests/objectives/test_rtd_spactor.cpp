#include <gtest/gtest.h>

#include <cmath>

#include "recipes/objectives/rtd.h"
#include "recipes/objectives/spactor.h"

namespace graft::objectives {
namespace {

const Vocab kVocab(2000);

Tensor sample_tokens(int64_t rows, int64_t length, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> flat;
  for (int64_t i = 0; i < rows * length; ++i) {
    flat.push_back(7 + static_cast<int32_t>(rng.below(kVocab.ordinary_end() - 7)));
  }
  return Tensor::from_vector(flat, {rows, length});
}

// A stand-in generator: at masked positions, the original token where
// (position % 3 == 0) and another ordinary token elsewhere.
Tensor fake_samples(const RtdMasking& m) {
  auto samples = m.original.to_vector<int32_t>();
  for (size_t i = 0; i < samples.size(); ++i) {
    if (i % 3 != 0) samples[i] = 7 + (samples[i] - 7 + 1) % (kVocab.ordinary_end() - 7);
  }
  return Tensor::from_vector(samples, m.original.shape());
}

TEST(Rtd, MasksFifteenPercentOfWhich85PercentBecomeMask) {
  const int64_t rows = 300, length = 400;
  const RtdMasking m = make_rtd_masking(sample_tokens(rows, length, 1), kVocab, 2);
  const auto orig = m.original.to_vector<int32_t>();
  const auto gen = m.generator_input.to_vector<int32_t>();
  const auto masked = m.masked.to_vector<int32_t>();
  const auto labels = m.generator_labels.to_vector<int32_t>();
  int64_t chosen = 0, mask_tokens = 0;
  for (size_t i = 0; i < orig.size(); ++i) {
    if (!masked[i]) {
      EXPECT_EQ(gen[i], orig[i]);
      EXPECT_EQ(labels[i], kIgnoreIndex);
      continue;
    }
    ++chosen;
    EXPECT_EQ(labels[i], orig[i]);
    if (gen[i] == kMaskId) {
      ++mask_tokens;
    } else {
      EXPECT_EQ(gen[i], orig[i]) << "ELECTRA keeps the rest; no random tokens";
    }
  }
  EXPECT_EQ(chosen, rows * 60);  // round(0.15 * 400) per row
  const double sigma = std::sqrt(0.85 * 0.15 / chosen);
  EXPECT_NEAR(static_cast<double>(mask_tokens) / chosen, 0.85, 4 * sigma);
}

TEST(Rtd, DiscriminatorLabelsMarkOnlyRealReplacements) {
  const RtdMasking m = make_rtd_masking(sample_tokens(4, 100, 3), kVocab, 4);
  const Tensor samples = fake_samples(m);
  const RtdBatch batch = make_rtd_batch(m, samples);
  const auto orig = m.original.to_vector<int32_t>();
  const auto masked = m.masked.to_vector<int32_t>();
  const auto s = samples.to_vector<int32_t>();
  const auto in = batch.input_ids.to_vector<int32_t>();
  const auto labels = batch.labels.to_vector<int32_t>();
  int64_t replaced = 0, same = 0;
  for (size_t i = 0; i < orig.size(); ++i) {
    EXPECT_EQ(in[i], masked[i] ? s[i] : orig[i]);
    EXPECT_EQ(labels[i], in[i] != orig[i] ? 1 : 0);
    if (masked[i]) (s[i] == orig[i] ? same : replaced) += 1;
  }
  EXPECT_GT(replaced, 0);
  EXPECT_GT(same, 0) << "a sample equal to the original is labelled original";
}

TEST(Spactor, EncoderReadsReplacedTokensDecoderReconstructsOriginals) {
  const int64_t rows = 6;
  const RtdMasking m = make_rtd_masking(sample_tokens(rows, 568, 5), kVocab, 6);
  const Tensor samples = fake_samples(m);
  const SpactorBatch batch = make_spactor_batch(m, samples, kVocab, 7);
  EXPECT_EQ(batch.seq2seq.input_ids.shape(), (Shape{rows, 512}));
  EXPECT_EQ(batch.seq2seq.labels.shape(), (Shape{rows, 114}));
  EXPECT_EQ(batch.rtd_labels.shape(), (Shape{rows, 512}));

  const auto originals = tensor_rows(m.original);
  const auto replaced = tensor_rows(make_rtd_batch(m, samples).input_ids);
  const auto inputs = tensor_rows(batch.seq2seq.input_ids);
  const auto targets = tensor_rows(batch.seq2seq.labels);
  const auto rtd = tensor_rows(batch.rtd_labels);
  int64_t replaced_in_encoder = 0;
  for (int64_t b = 0; b < rows; ++b) {
    // Filling the sentinels from the targets gives a row that is the replaced
    // row outside the noise and the ORIGINAL inside it.
    const auto rebuilt = reconstruct_span_corruption(inputs[b], targets[b], kVocab);
    ASSERT_EQ(rebuilt.size(), 568u);
    std::vector<uint8_t> noise(568, 0);
    {
      size_t pos = 0;
      for (int32_t id : inputs[b]) {
        if (id == kEosId) break;
        if (kVocab.is_sentinel(id)) {
          // This span's length: its target run.
          size_t k = static_cast<size_t>(kVocab.size - 1 - id), run = 0, seen = 0;
          for (size_t j = 0; j < targets[b].size(); ++j) {
            if (kVocab.is_sentinel(targets[b][j]))
              ++seen;
            else if (seen == k + 1 && targets[b][j] != kEosId)
              ++run;
          }
          for (size_t j = 0; j < run; ++j)
            noise[pos++] = 1;
        } else {
          ++pos;
        }
      }
      ASSERT_EQ(pos, 568u);
    }
    for (size_t i = 0; i < 568; ++i) {
      EXPECT_EQ(rebuilt[i], noise[i] ? originals[b][i] : replaced[b][i]) << i;
    }
    // RTD labels: ignored at sentinels and EOS, else replaced-vs-original.
    for (size_t j = 0, i = 0; j < inputs[b].size(); ++j) {
      if (kVocab.is_sentinel(inputs[b][j]) || j + 1 == inputs[b].size()) {
        EXPECT_EQ(rtd[b][j], kIgnoreIndex);
        while (i < 568 && noise[i])
          ++i;
        continue;
      }
      while (noise[i])
        ++i;
      EXPECT_EQ(inputs[b][j], replaced[b][i]);
      EXPECT_EQ(rtd[b][j], replaced[b][i] != originals[b][i] ? 1 : 0);
      replaced_in_encoder += rtd[b][j];
      ++i;
    }
  }
  EXPECT_GT(replaced_in_encoder, 0);
}

}  // namespace
}  // namespace graft::objectives
