#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "data/byte_tokenizer.h"
#include "data/fortune_corpus.h"
#include "ops/check.h"

namespace graft {
namespace {

TEST(ByteTokenizer, RoundTripsUtf8Text) {
  const std::string text = "Grüße, \"graft\" — 42%\n";
  std::vector<int32_t> ids = ByteTokenizer::encode(text);
  EXPECT_EQ(ids.size(), text.size());
  for (int32_t id : ids) {
    EXPECT_GE(id, ByteTokenizer::kFirstByte);
    EXPECT_LT(id, ByteTokenizer::kVocabSize);
  }
  EXPECT_EQ(ByteTokenizer::decode(ids), text);
}

TEST(ByteTokenizer, PackingFramesEachDocument) {
  std::vector<int32_t> stream = pack_documents({"ab", "c"});
  std::vector<int32_t> expected{
      ByteTokenizer::kBos, 3 + 'a', 3 + 'b', ByteTokenizer::kEos, ByteTokenizer::kBos, 3 + 'c',
      ByteTokenizer::kEos};
  EXPECT_EQ(stream, expected);
}

class FortuneDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("graft-fortunes-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "alpha") << "first entry\n%\n  second\nentry  \n%\n%\nthird\n";
    std::ofstream(dir_ / "alpha.dat") << "binary index";
    std::ofstream(dir_ / "art") << "/\\_/\\\n%\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(FortuneDirectory, SplitsEntriesOnPercentLinesAndSkipsIndexesAndArt) {
  std::vector<std::string> entries = read_fortune_entries(dir_.string());
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0], "first entry");
  EXPECT_EQ(entries[1], "second\nentry");
  EXPECT_EQ(entries[2], "third");
}

TEST(FortuneCorpus, MissingDirectoryNamesItAndThePackage) {
  try {
    read_fortune_entries("/nonexistent/fortunes");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/fortunes"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("fortunes"), std::string::npos);
  }
}

TEST(DocumentSplit, SeededDisjointAndComplete) {
  std::vector<std::string> docs;
  for (int i = 0; i < 200; ++i)
    docs.push_back("doc" + std::to_string(i));
  DocumentSplit a = split_documents(docs, 0.1, 42), b = split_documents(docs, 0.1, 42);
  DocumentSplit c = split_documents(docs, 0.1, 43);
  EXPECT_EQ(a.valid, b.valid);
  EXPECT_NE(a.valid, c.valid);
  EXPECT_EQ(a.valid.size(), 20u);
  EXPECT_EQ(a.train.size() + a.valid.size(), docs.size());
  std::set<std::string> seen(a.train.begin(), a.train.end());
  for (const auto& v : a.valid)
    EXPECT_EQ(seen.count(v), 0u);
}

}  // namespace
}  // namespace graft
