#include <gtest/gtest.h>

#include <cmath>

#include "recipes/objectives/span_corruption.h"

namespace graft::objectives {
namespace {

const Vocab kVocab(32100);

std::vector<int32_t> random_row(int64_t length, Rng& rng) {
  std::vector<int32_t> row(static_cast<size_t>(length));
  for (auto& id : row) {
    id = kVocab.ordinary_begin() + static_cast<int32_t>(rng.below(kVocab.ordinary_end() - 7));
  }
  return row;
}

TEST(SpanCorruption, T5LengthIdentity) {
  EXPECT_EQ(span_corruption_lengths(568), (std::pair<int64_t, int64_t>{512, 114}));
  EXPECT_EQ(span_corruption_raw_length(512), 568);
  // And the batch really has those shapes, with no padding.
  Rng rng(1);
  std::vector<int32_t> flat;
  for (int b = 0; b < 4; ++b) {
    auto row = random_row(568, rng);
    flat.insert(flat.end(), row.begin(), row.end());
  }
  const Seq2SeqBatch batch =
      make_span_corruption_batch(Tensor::from_vector(flat, {4, 568}), kVocab, 5);
  EXPECT_EQ(batch.input_ids.shape(), (Shape{4, 512}));
  EXPECT_EQ(batch.labels.shape(), (Shape{4, 114}));
  for (int32_t m : batch.attention_mask.to_vector<int32_t>())
    EXPECT_EQ(m, 1);
  for (int32_t m : batch.decoder_attention_mask.to_vector<int32_t>())
    EXPECT_EQ(m, 1);
}

TEST(SpanCorruption, InputsAndTargetsReconstructTheOriginalExactly) {
  Rng data(2);
  for (int trial = 0; trial < 500; ++trial) {
    const int64_t length = 2 + static_cast<int64_t>(data.below(700));
    const std::vector<int32_t> row = random_row(length, data);
    Rng rng(derive_seed(3, trial));
    const SpanCorrupted c = span_corrupt(row, kVocab, rng);
    ASSERT_EQ(reconstruct_span_corruption(c.inputs, c.targets, kVocab), row) << "L=" << length;
    EXPECT_EQ(c.inputs.back(), kEosId);
    EXPECT_EQ(c.targets.back(), kEosId);
    EXPECT_EQ(c.targets.front(), kVocab.sentinel(0));
    // Sentinels appear in order <extra_id_0>, <extra_id_1>, ... in the inputs.
    int next = 0;
    for (int32_t id : c.inputs) {
      if (kVocab.is_sentinel(id)) {
        EXPECT_EQ(id, kVocab.sentinel(next++));
      }
    }
    const auto [in_len, tgt_len] = span_corruption_lengths(length);
    EXPECT_EQ(static_cast<int64_t>(c.inputs.size()), in_len);
    EXPECT_EQ(static_cast<int64_t>(c.targets.size()), tgt_len);
  }
}

TEST(SpanCorruption, NoiseDensityAndMeanSpanLengthMatch) {
  Rng lengths(4);
  int64_t tokens = 0, noise = 0, spans = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const int64_t length = 100 + static_cast<int64_t>(lengths.below(900));
    Rng rng(derive_seed(6, trial));
    const auto mask = random_spans_noise_mask(length, {}, rng);
    ASSERT_EQ(static_cast<int64_t>(mask.size()), length);
    EXPECT_EQ(mask.front(), 0) << "starts with non-noise";
    EXPECT_EQ(mask.back(), 1) << "ends with noise";
    int64_t row_noise = 0, row_spans = 0;
    for (size_t i = 0; i < mask.size(); ++i) {
      row_noise += mask[i];
      row_spans += mask[i] && (i == 0 || !mask[i - 1]);
    }
    const int64_t expected_noise = std::llround(std::nearbyint(length * 0.15));
    EXPECT_EQ(row_noise, expected_noise);
    EXPECT_EQ(row_spans, std::max<int64_t>(1, std::llround(std::nearbyint(row_noise / 3.0))));
    tokens += length;
    noise += row_noise;
    spans += row_spans;
  }
  EXPECT_NEAR(static_cast<double>(noise) / tokens, 0.15, 0.002);
  EXPECT_NEAR(static_cast<double>(noise) / spans, 3.0, 0.05);
}

// The span lengths are a uniformly random composition: for n noise tokens in
// k spans, P(a span has length 1) = (k-1)/(n-1). 568 tokens: n=85, k=28.
TEST(SpanCorruption, SpanLengthsFollowUniformRandomSegmentation) {
  int64_t ones = 0, total = 0, max_len = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    Rng rng(derive_seed(8, trial));
    const auto mask = random_spans_noise_mask(568, {}, rng);
    int64_t run = 0;
    for (size_t i = 0; i <= mask.size(); ++i) {
      if (i < mask.size() && mask[i]) {
        ++run;
      } else if (run > 0) {
        ones += run == 1;
        ++total;
        max_len = std::max(max_len, run);
        run = 0;
      }
    }
  }
  const double p = 27.0 / 84.0;
  const double sigma = std::sqrt(p * (1 - p) / total);
  EXPECT_EQ(total, 3000 * 28);
  EXPECT_NEAR(static_cast<double>(ones) / total, p, 4 * sigma);
  EXPECT_GT(max_len, 10) << "lengths vary, not fixed at 3";
}

TEST(SpanCorruption, BatchesAreDeterministicInTheSeed) {
  Rng data(9);
  const auto row = random_row(200, data);
  std::vector<int32_t> flat;
  for (int b = 0; b < 3; ++b)
    flat.insert(flat.end(), row.begin(), row.end());
  const Tensor windows = Tensor::from_vector(flat, {3, 200});
  const auto a = make_span_corruption_batch(windows, kVocab, 11).input_ids.to_vector<int32_t>();
  const auto b = make_span_corruption_batch(windows, kVocab, 11).input_ids.to_vector<int32_t>();
  const auto c = make_span_corruption_batch(windows, kVocab, 12).input_ids.to_vector<int32_t>();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // Rows with identical tokens still get their own noise.
  EXPECT_NE(std::vector<int32_t>(a.begin(), a.begin() + 100),
            std::vector<int32_t>(a.begin() + a.size() / 3, a.begin() + a.size() / 3 + 100));
}

TEST(SpanCorruption, PaddedRowsCorruptOnlyTheirText) {
  std::vector<int32_t> flat = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19,  //
                               20, 21, 22, 23, 24, 0,  0,  0,  0,  0};
  const Seq2SeqBatch batch =
      make_span_corruption_batch(Tensor::from_vector(flat, {2, 10}), kVocab, 1);
  const auto rows_in = tensor_rows(batch.input_ids);
  const auto rows_tgt = tensor_rows(batch.labels);
  auto unpad = [](std::vector<int32_t> r, int32_t pad) {
    while (!r.empty() && r.back() == pad)
      r.pop_back();
    return r;
  };
  EXPECT_EQ(reconstruct_span_corruption(unpad(rows_in[1], kPadId), unpad(rows_tgt[1], kIgnoreIndex),
                                        kVocab),
            (std::vector<int32_t>{20, 21, 22, 23, 24}));
}

}  // namespace
}  // namespace graft::objectives
