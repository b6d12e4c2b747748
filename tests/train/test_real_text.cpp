// A tiny decoder learns real English: validation loss on held-out fortunes
// falls well below the uniform-byte level within 30 steps.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "data/byte_tokenizer.h"
#include "data/fortune_corpus.h"
#include "train/loop.h"
#include "train/token_stream.h"

namespace graft {
namespace {

TEST(RealText, TinyDecoderValidationLossFallsOnFortunes) {
  if (!std::filesystem::is_directory(kFortuneDirectory)) {
    GTEST_SKIP() << kFortuneDirectory
                 << " is missing: install Debian's 'fortunes' package (scripts/lib/packages.txt)";
  }
  std::vector<std::string> entries = read_fortune_entries();
  ASSERT_GT(entries.size(), 600u);
  entries.resize(600);  // a slice: the test must stay fast
  const DocumentSplit split = split_documents(entries, 0.1, 1234);
  constexpr int64_t kLen = 32, kRows = 8, kSteps = 30;
  const TokenStream train(pack_documents(split.train), kLen, ByteTokenizer::kFirstByte);
  const TokenStream valid(pack_documents(split.valid), kLen, ByteTokenizer::kFirstByte);
  const std::vector<Batch> valid_batches = valid.sequential_batches(kRows, 4);
  ASSERT_EQ(valid_batches.size(), 4u);

  ModelConfig c;
  c.kind = ModelKind::decoder;
  c.vocab_size = ByteTokenizer::kVocabSize;
  c.d_model = 32;
  c.num_heads = 2;
  c.d_ff = 64;
  c.decoder_layers = 2;
  c.max_positions = kLen;
  Decoder model(c, 0);
  TokenPredictionTask task(TokenPredictionTask::Head::lm);
  TrainerOptions o;
  o.schedule.peak_lr = 1e-2;
  o.schedule.min_lr = 1e-3;
  o.schedule.warmup_steps = 3;
  o.schedule.total_steps = kSteps;
  Trainer trainer(model, task, o);
  LoopOptions loop;
  loop.steps = kSteps;
  const LoopResult r = run_training(
      trainer, [&](int64_t step, int64_t micro) { return train.random_batch(5, step, kRows); },
      valid_batches, loop);

  // Untrained: about ln(259) = 5.56 nats, 8 bits per byte.
  EXPECT_NEAR(r.initial.loss, std::log(259.0), 0.2);
  EXPECT_GT(r.initial.bits_per_byte, 7.5);
  // After 30 steps it has at least learnt English byte frequencies (the
  // unigram entropy of this text is about 3.1 nats).
  EXPECT_LT(r.final.loss, 3.6) << "initial " << r.initial.loss;
  EXPECT_LT(r.final.bits_per_byte, 5.3);
  EXPECT_GT(r.final.accuracy, 0.12);
  EXPECT_EQ(r.steps.size(), static_cast<size_t>(kSteps));
  EXPECT_EQ(r.tokens, kSteps * kRows * kLen);
  EXPECT_EQ(r.skipped, 0);
}

}  // namespace
}  // namespace graft
