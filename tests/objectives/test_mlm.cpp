#include <gtest/gtest.h>

#include <cmath>

#include "recipes/objectives/clm.h"
#include "recipes/objectives/mlm.h"

namespace graft::objectives {
namespace {

const Vocab kVocab(1000);

// Rows of ordinary tokens with an EOS every 50 positions (never maskable).
Tensor sample_tokens(int64_t rows, int64_t length, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> flat;
  for (int64_t i = 0; i < rows * length; ++i) {
    flat.push_back(i % 50 == 49 ? kEosId
                                : 7 + static_cast<int32_t>(rng.below(kVocab.ordinary_end() - 7)));
  }
  return Tensor::from_vector(flat, {rows, length});
}

void expect_share(int64_t count, int64_t total, double p, const char* what) {
  const double sigma = std::sqrt(p * (1 - p) / static_cast<double>(total));
  EXPECT_NEAR(static_cast<double>(count) / total, p, 4 * sigma) << what;
}

TEST(Mlm, ChoosesFifteenPercentAndSplits80_10_10) {
  const int64_t rows = 400, length = 500;
  const Tensor tokens = sample_tokens(rows, length, 1);
  const LmBatch batch = make_mlm_batch(tokens, kVocab, 2);
  const auto orig = tokens.to_vector<int32_t>();
  const auto in = batch.input_ids.to_vector<int32_t>();
  const auto labels = batch.labels.to_vector<int32_t>();
  int64_t chosen = 0, masked = 0, random = 0, kept = 0;
  for (int64_t b = 0; b < rows; ++b) {
    int64_t row_chosen = 0;
    for (int64_t t = 0; t < length; ++t) {
      const size_t i = static_cast<size_t>(b * length + t);
      if (labels[i] == kIgnoreIndex) {
        EXPECT_EQ(in[i], orig[i]) << "unchosen positions are untouched";
        continue;
      }
      EXPECT_EQ(labels[i], orig[i]);
      EXPECT_NE(orig[i], kEosId) << "specials are never chosen";
      ++row_chosen;
      if (in[i] == kMaskId) {
        ++masked;
      } else if (in[i] == orig[i]) {
        ++kept;
      } else {
        ++random;
        EXPECT_TRUE(kVocab.is_ordinary(in[i])) << "random replacements are ordinary tokens";
      }
    }
    EXPECT_EQ(row_chosen, 74) << "round(0.15 * 490 maskable)";  // 10 EOS per row
    chosen += row_chosen;
  }
  expect_share(masked, chosen, 0.8, "[MASK]");
  // A random token equal to the original (p = 1/993) reads as kept.
  expect_share(random, chosen, 0.1 * (1 - 1.0 / 993), "random");
  expect_share(kept, chosen, 0.1 + 0.1 / 993, "kept");
  for (int32_t m : batch.attention_mask.to_vector<int32_t>())
    EXPECT_EQ(m, 1);
}

TEST(Mlm, PaddingIsNeverChosenAndMaskedFromAttention) {
  std::vector<int32_t> flat(2 * 40, kPadId);
  for (int t = 0; t < 20; ++t)
    flat[t] = 100 + t;
  const LmBatch batch = make_mlm_batch(Tensor::from_vector(flat, {2, 40}), kVocab, 3);
  const auto labels = batch.labels.to_vector<int32_t>();
  const auto mask = batch.attention_mask.to_vector<int32_t>();
  int64_t chosen = 0;
  for (int i = 0; i < 80; ++i) {
    EXPECT_EQ(mask[i], i < 20 ? 1 : 0);
    if (labels[i] != kIgnoreIndex) {
      EXPECT_LT(i, 20);
      ++chosen;
    }
  }
  EXPECT_EQ(chosen, 3);  // round(0.15 * 20); the all-pad row has none
}

TEST(Mlm, DeterministicInTheSeed) {
  const Tensor tokens = sample_tokens(8, 128, 4);
  EXPECT_EQ(make_mlm_batch(tokens, kVocab, 5).input_ids.to_vector<int32_t>(),
            make_mlm_batch(tokens, kVocab, 5).input_ids.to_vector<int32_t>());
  EXPECT_NE(make_mlm_batch(tokens, kVocab, 5).input_ids.to_vector<int32_t>(),
            make_mlm_batch(tokens, kVocab, 6).input_ids.to_vector<int32_t>());
}

TEST(Clm, ShiftsByOneAndIgnoresPadding) {
  const Tensor windows =
      Tensor::from_vector(std::vector<int32_t>{10, 11, 12, kEosId, 20, 21, 0, 0}, {2, 4});
  const LmBatch batch = make_clm_batch(windows);
  EXPECT_EQ(batch.input_ids.to_vector<int32_t>(), (std::vector<int32_t>{10, 11, 12, 20, 21, 0}));
  EXPECT_EQ(batch.labels.to_vector<int32_t>(),
            (std::vector<int32_t>{11, 12, kEosId, 21, kIgnoreIndex, kIgnoreIndex}));
  EXPECT_EQ(batch.attention_mask.to_vector<int32_t>(), (std::vector<int32_t>{1, 1, 1, 1, 1, 0}));
}

}  // namespace
}  // namespace graft::objectives
