#include <gtest/gtest.h>

#include "recipes/objectives/tasks.h"

namespace graft::objectives {
namespace {

Example example(std::vector<int32_t> tokens, int32_t label, std::vector<int32_t> target = {}) {
  Example e;
  e.tokens = std::move(tokens);
  e.label = label;
  e.target = std::move(target);
  return e;
}

TEST(Classification, ClsTextSepPaddedAndTruncated) {
  const std::vector<Example> batch_in = {example({10, 11, kEosId}, 1),
                                         example({20, 21, 22, 23, 24, 25, kEosId}, 0)};
  const ClassificationBatch batch = make_classification_batch(batch_in, 6);
  EXPECT_EQ(batch.input_ids.shape(), (Shape{2, 6}));
  EXPECT_EQ(batch.input_ids.to_vector<int32_t>(),
            (std::vector<int32_t>{kClsId, 10, 11, kSepId, kPadId, kPadId,  //
                                  kClsId, 20, 21, 22, 23, kSepId}));
  EXPECT_EQ(batch.attention_mask.to_vector<int32_t>(),
            (std::vector<int32_t>{1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(batch.labels.to_vector<int32_t>(), (std::vector<int32_t>{1, 0}));
}

TEST(Seq2Seq, DecoderInputsAreLabelsShiftedRight) {
  const std::vector<Example> batch_in = {
      example({10, 11, kEosId}, -1, {30, 31, 32, kEosId}),
      example({20, kEosId}, -1, {40, kEosId}),
  };
  const Seq2SeqBatch batch = make_seq2seq_batch(batch_in, 8, 8);
  EXPECT_EQ(batch.input_ids.to_vector<int32_t>(),
            (std::vector<int32_t>{10, 11, kEosId, 20, kEosId, kPadId}));
  EXPECT_EQ(batch.labels.to_vector<int32_t>(),
            (std::vector<int32_t>{30, 31, 32, kEosId, 40, kEosId, kIgnoreIndex, kIgnoreIndex}));
  EXPECT_EQ(batch.decoder_input_ids.to_vector<int32_t>(),
            (std::vector<int32_t>{kPadId, 30, 31, 32, kPadId, 40, kPadId, kPadId}));
  // Compared by row: GCC 12.2 with AVX-512 (-march=native here) miscompiles
  // the literal std::vector<int32_t>{1, 1, 1, 1, 1, 1, 0, 0} into all ones.
  const auto mask = tensor_rows(batch.decoder_attention_mask);
  EXPECT_EQ(mask[0], std::vector<int32_t>(4, 1));
  EXPECT_EQ(mask[1], (std::vector<int32_t>{1, 1, 0, 0}));
  // Truncation keeps EOS last.
  const Seq2SeqBatch cut = make_seq2seq_batch(batch_in, 2, 3);
  EXPECT_EQ(cut.labels.to_vector<int32_t>(),
            (std::vector<int32_t>{30, 31, kEosId, 40, kEosId, kIgnoreIndex}));
  EXPECT_EQ(cut.input_ids.to_vector<int32_t>(), (std::vector<int32_t>{10, kEosId, 20, kEosId}));
}

}  // namespace
}  // namespace graft::objectives
