#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "data/tokenizer.h"
#include "tests/data/tiny_corpus.h"

namespace graft {
namespace {

class TokenizerTypes : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerTypes, SpecialIdsArePinned) {
  const Tokenizer t = Tokenizer::load(testing::tiny_tokenizer_path(GetParam()));
  EXPECT_EQ(t.vocab_size(), 600);
  EXPECT_EQ(t.piece_to_id("<pad>"), kPadId);
  EXPECT_EQ(t.piece_to_id("<s>"), kBosId);
  EXPECT_EQ(t.piece_to_id("</s>"), kEosId);
  EXPECT_EQ(t.piece_to_id("<unk>"), kUnkId);
  EXPECT_EQ(t.piece_to_id("[MASK]"), kMaskId);
  EXPECT_EQ(t.piece_to_id("[CLS]"), kClsId);
  EXPECT_EQ(t.piece_to_id("[SEP]"), kSepId);
  EXPECT_EQ(t.piece_to_id("<extra_id_0>"), 599);
  EXPECT_EQ(t.piece_to_id("<extra_id_99>"), 500);
  EXPECT_EQ(t.id_to_piece(599), "<extra_id_0>");
  EXPECT_EQ(t.id_to_piece(kMaskId), "[MASK]");
  EXPECT_EQ(t.sentinel(1), 598);
}

TEST_P(TokenizerTypes, RoundTripsText) {
  const Tokenizer t = Tokenizer::load(testing::tiny_tokenizer_path(GetParam()));
  const std::vector<std::string> texts = {
      "The quick brown fox jumps over the lazy dog.",
      "Two lines\nand  double  spaces, tabs\tand digits 1234567.",
      "Grüße aus Köln — naïve café, 東京, emoji \xF0\x9F\x99\x82!",
  };
  for (const std::string& text : texts) {
    const std::vector<int32_t> ids = t.encode(text);
    EXPECT_FALSE(ids.empty());
    for (int32_t id : ids)
      EXPECT_LT(id, t.vocab_size() - kNumSentinels) << "no sentinels";
    EXPECT_EQ(t.decode(ids), text);
  }
  // Ordinary English uses multi-character pieces, not bytes (600 ids, 256 of
  // them byte fallbacks, still compress it by a quarter).
  EXPECT_LT(t.encode(texts[0]).size(), texts[0].size() * 3 / 4);
}

TEST_P(TokenizerTypes, SentinelsInTextEncodeToTheirIds) {
  const Tokenizer t = Tokenizer::load(testing::tiny_tokenizer_path(GetParam()));
  const std::string text = "a<extra_id_0> b<extra_id_12>";
  const std::vector<int32_t> ids = t.encode(text);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), t.sentinel(0)), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), t.sentinel(12)), 1);
  EXPECT_EQ(t.decode(ids), text);
}

TEST_P(TokenizerTypes, LoadsFromSerializedBytes) {
  const Tokenizer a = Tokenizer::load(testing::tiny_tokenizer_path(GetParam()));
  const Tokenizer b = Tokenizer::from_serialized(a.serialized(), "bytes");
  const std::string text = "Serialized models tokenize alike.";
  EXPECT_EQ(a.encode(text), b.encode(text));
}

INSTANTIATE_TEST_SUITE_P(Types, TokenizerTypes, ::testing::Values("unigram", "bpe"));

TEST(Tokenizer, MissingModelNamesTheFile) {
  try {
    Tokenizer::load("/nonexistent/tok.model");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/tok.model"), std::string::npos);
  }
}

TEST(Tokenizer, ForeignFileNamesTheFile) {
  const std::string path = (testing::scratch_dir() / "not-a-model.model").string();
  std::ofstream(path) << "this is not a protobuf";
  try {
    Tokenizer::load(path);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(Tokenizer, RejectsTooSmallVocabulary) {
  TokenizerTrainOptions o;
  o.inputs = {testing::write_corpus("small.txt", {"some text"})};
  o.model_prefix = (testing::scratch_dir() / "small").string();
  o.vocab_size = 200;
  EXPECT_THROW(train_tokenizer(o), InputError);
}

}  // namespace
}  // namespace graft
