// TLM retrieval (RECIPES.md recipe 4): BM25 over the general corpus with
// Xapian, each task example a query, the top K per example unioned into the
// external set S; and the random-retrieval ablation of the same size.
//
// Analysis matches Elasticsearch's default "standard" analyzer that the TLM
// authors queried: lowercased runs of letters/digits (bytes >= 0x80 count as
// letters, so UTF-8 words stay whole), no stemming, no stop words. Scoring is
// Xapian's BM25Weight with Elasticsearch's k1 = 1.2, b = 0.75. Ties in score
// go to the lower document index (Xapian's ascending docid order), so results
// are deterministic.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace graft::recipe_tasks {

std::vector<std::string> analyze(const std::string& text);

struct Bm25Hit {
  int64_t doc = 0;  // 0-based index in insertion order
  double score = 0;
};

class Bm25Index {
 public:
  // path empty: an in-memory index; otherwise an on-disk Xapian database
  // created (or overwritten) there.
  explicit Bm25Index(const std::string& path = "");
  ~Bm25Index();
  Bm25Index(const Bm25Index&) = delete;
  Bm25Index& operator=(const Bm25Index&) = delete;
  Bm25Index(Bm25Index&&) noexcept;
  Bm25Index& operator=(Bm25Index&&) noexcept;

  int64_t add(const std::string& text);  // returns the document's index
  int64_t size() const;
  // Up to k hits, best first. An empty query (no terms) returns none.
  std::vector<Bm25Hit> search(const std::string& query, int64_t k) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// RAKE (Rose et al. 2010), simplified: candidate phrases are the runs of
// analysed words between stop words and punctuation; a word scores
// degree / frequency, a phrase the sum of its words; the top max_phrases
// distinct phrases, best first (ties: first appearance).
std::vector<std::string> rake_key_phrases(const std::string& text, int64_t max_phrases);

struct RetrievalOptions {
  int64_t k = 50;                 // per example (paper: 50 ... 5000, see RECIPES.md)
  int64_t long_text_words = 128;  // longer examples are queried by key phrases
  int64_t max_phrases = 10;
};

// The query used for one task example: the text itself, or its joined key
// phrases when it has more than long_text_words words.
std::string tlm_query(const std::string& text, const RetrievalOptions& options);
// Union of the top-k documents of every example, sorted ascending.
std::vector<int64_t> retrieve_external_set(const Bm25Index& index,
                                           const std::vector<std::string>& task_texts,
                                           const RetrievalOptions& options);
// The ablation: `count` distinct documents of [0, corpus_size) drawn
// uniformly with `seed`, sorted ascending.
std::vector<int64_t> random_external_set(int64_t corpus_size, int64_t count, uint64_t seed);

}  // namespace graft::recipe_tasks
