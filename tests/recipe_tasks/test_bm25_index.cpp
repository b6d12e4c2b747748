#include <gtest/gtest.h>

#include <set>

#include "recipes/tasks/bm25_index.h"

namespace graft::recipe_tasks {
namespace {

std::vector<std::string> corpus() {
  return {
      "the cat sat on the mat and the dog sat on the log",         // 0
      "a dog and a cat play in the garden every day",              // 1
      "the axolotl is a zygomorphic salamander of mexican lakes",  // 2
      "the weather in the garden is warm and the cat sleeps",      // 3
      "salamander species live in lakes and rivers",               // 4
      "the dog barks at the cat in the garden of the house",       // 5
  };
}

Bm25Index build(const std::vector<std::string>& docs) {
  Bm25Index index;
  for (const auto& d : docs)
    index.add(d);
  return index;
}

TEST(Bm25Index, RareTermsRetrieveTheirDocumentFirst) {
  Bm25Index index = build(corpus());
  ASSERT_EQ(index.size(), 6);
  const auto hits = index.search("The cat and the zygomorphic axolotl", 3);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].doc, 2);
  for (size_t i = 1; i < hits.size(); ++i)
    EXPECT_LE(hits[i].score, hits[i - 1].score);
  // Of two documents with the rare term, the shorter (BM25 length norm).
  EXPECT_EQ(index.search("salamander", 2).at(0).doc, 4);
}

TEST(Bm25Index, TiesGoToTheLowerIndexDeterministically) {
  Bm25Index index = build({"alpha beta", "gamma delta", "alpha beta", "alpha beta"});
  const auto a = index.search("alpha", 10);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].doc, 0);
  EXPECT_EQ(a[1].doc, 2);
  EXPECT_EQ(a[2].doc, 3);
  EXPECT_DOUBLE_EQ(a[0].score, a[2].score);
  const auto b = index.search("alpha", 10);
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(a[i].doc, b[i].doc);
}

TEST(Bm25Index, KIsRespected) {
  Bm25Index index = build(corpus());
  EXPECT_EQ(index.search("the cat", 2).size(), 2u);
  EXPECT_EQ(index.search("axolotl", 5).size(), 1u);  // only one document matches
  EXPECT_TRUE(index.search("", 5).empty());
  EXPECT_TRUE(index.search("cat", 0).empty());
}

TEST(Bm25Index, RakeSplitsAtStopWordsAndPunctuation) {
  const auto p = rake_key_phrases("The quick brown fox, and the lazy dog.", 5);
  EXPECT_EQ(p, (std::vector<std::string>{"quick brown fox", "lazy dog"}));
  EXPECT_EQ(rake_key_phrases("The quick brown fox, and the lazy dog.", 1).size(), 1u);
}

TEST(Bm25Index, LongExamplesAreQueriedByKeyPhrases) {
  RetrievalOptions options;
  options.long_text_words = 4;
  options.max_phrases = 1;
  EXPECT_EQ(tlm_query("short text", options), "short text");
  EXPECT_EQ(tlm_query("the zygomorphic mexican axolotl of the lakes", options),
            "zygomorphic mexican axolotl");
}

TEST(Bm25Index, ExternalSetIsTheUnionAndRandomAblationMatchesItsSize) {
  Bm25Index index = build(corpus());
  RetrievalOptions options;
  options.k = 1;
  const auto s =
      retrieve_external_set(index, {"zygomorphic axolotl", "barks house", "axolotl"}, options);
  EXPECT_EQ(s, (std::vector<int64_t>{2, 5}));
  const auto r = random_external_set(index.size(), static_cast<int64_t>(s.size()), 42);
  EXPECT_EQ(r.size(), s.size());
  EXPECT_EQ(std::set<int64_t>(r.begin(), r.end()).size(), r.size());
  for (int64_t d : r) {
    EXPECT_GE(d, 0);
    EXPECT_LT(d, index.size());
  }
  EXPECT_EQ(r, random_external_set(index.size(), static_cast<int64_t>(s.size()), 42));
  EXPECT_THROW(random_external_set(3, 4, 1), std::exception);
}

}  // namespace
}  // namespace graft::recipe_tasks
