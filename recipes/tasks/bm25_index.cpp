#include "recipes/tasks/bm25_index.h"

#include <xapian.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <unordered_set>

#include "data/random.h"
#include "ops/check.h"

namespace graft::recipe_tasks {

namespace {

bool word_byte(unsigned char c) {
  return std::isalnum(c) || c >= 0x80;
}

// Xapian refuses terms over 245 bytes.
constexpr size_t kMaxTermBytes = 240;

const std::unordered_set<std::string>& stop_words() {
  static const std::unordered_set<std::string> words = {
      "a",       "about",   "above",  "after", "again",  "against", "all",   "am",      "an",
      "and",     "any",     "are",    "as",    "at",     "be",      "been",  "being",   "below",
      "between", "both",    "but",    "by",    "can",    "could",   "did",   "do",      "does",
      "doing",   "down",    "during", "each",  "few",    "for",     "from",  "further", "had",
      "has",     "have",    "having", "he",    "her",    "here",    "hers",  "him",     "his",
      "how",     "i",       "if",     "in",    "into",   "is",      "it",    "its",     "itself",
      "just",    "me",      "more",   "most",  "my",     "no",      "nor",   "not",     "now",
      "of",      "off",     "on",     "once",  "only",   "or",      "other", "our",     "out",
      "over",    "own",     "same",   "she",   "should", "so",      "some",  "such",    "than",
      "that",    "the",     "their",  "them",  "then",   "there",   "these", "they",    "this",
      "those",   "through", "to",     "too",   "under",  "until",   "up",    "very",    "was",
      "we",      "were",    "what",   "when",  "where",  "which",   "while", "who",     "whom",
      "why",     "will",    "with",   "would", "you",    "your"};
  return words;
}

}  // namespace

std::vector<std::string> analyze(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (word_byte(c)) {
      word.push_back(static_cast<char>(c < 0x80 ? std::tolower(c) : c));
    } else if (!word.empty()) {
      out.push_back(word.substr(0, kMaxTermBytes));
      word.clear();
    }
  }
  if (!word.empty()) out.push_back(word.substr(0, kMaxTermBytes));
  return out;
}

struct Bm25Index::Impl {
  Xapian::WritableDatabase db;
};

Bm25Index::Bm25Index(const std::string& path) : impl_(std::make_unique<Impl>()) {
  try {
    impl_->db = path.empty() ? Xapian::WritableDatabase(std::string(), Xapian::DB_BACKEND_INMEMORY)
                             : Xapian::WritableDatabase(path, Xapian::DB_CREATE_OR_OVERWRITE);
  } catch (const Xapian::Error& e) {
    GRAFT_INPUT_CHECK(false, "cannot open the BM25 index at '" << path << "': " << e.get_msg());
  }
}

Bm25Index::~Bm25Index() = default;
Bm25Index::Bm25Index(Bm25Index&&) noexcept = default;
Bm25Index& Bm25Index::operator=(Bm25Index&&) noexcept = default;

int64_t Bm25Index::add(const std::string& text) {
  Xapian::Document doc;
  for (const std::string& term : analyze(text))
    doc.add_term(term);
  // Xapian docids are 1-based and assigned in order: index = docid - 1.
  return static_cast<int64_t>(impl_->db.add_document(doc)) - 1;
}

int64_t Bm25Index::size() const {
  return static_cast<int64_t>(impl_->db.get_doccount());
}

std::vector<Bm25Hit> Bm25Index::search(const std::string& query, int64_t k) const {
  std::vector<Bm25Hit> hits;
  const std::vector<std::string> terms = analyze(query);
  if (terms.empty() || k <= 0) return hits;
  Xapian::Enquire enquire(impl_->db);
  enquire.set_query(Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end()));
  enquire.set_weighting_scheme(Xapian::BM25Weight(1.2, 0, 1, 0.75, 0.5));
  enquire.set_docid_order(Xapian::Enquire::ASCENDING);
  const Xapian::MSet mset = enquire.get_mset(0, static_cast<Xapian::doccount>(k));
  for (auto it = mset.begin(); it != mset.end(); ++it)
    hits.push_back({static_cast<int64_t>(*it) - 1, it.get_weight()});
  return hits;
}

std::vector<std::string> rake_key_phrases(const std::string& text, int64_t max_phrases) {
  // Candidate phrases: split at punctuation (non-space, non-word bytes) and
  // at stop words.
  std::vector<std::vector<std::string>> phrases;
  std::vector<std::string> current;
  std::string word;
  auto end_word = [&] {
    if (word.empty()) return;
    if (stop_words().count(word)) {
      if (!current.empty()) phrases.push_back(current);
      current.clear();
    } else {
      current.push_back(word);
    }
    word.clear();
  };
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (word_byte(c)) {
      word.push_back(static_cast<char>(c < 0x80 ? std::tolower(c) : c));
      continue;
    }
    end_word();
    if (!std::isspace(c) && !current.empty()) {
      phrases.push_back(current);
      current.clear();
    }
  }
  end_word();
  if (!current.empty()) phrases.push_back(current);

  std::map<std::string, double> frequency, degree;
  for (const auto& p : phrases) {
    for (const auto& w : p) {
      frequency[w] += 1;
      degree[w] += static_cast<double>(p.size());
    }
  }
  struct Scored {
    std::string phrase;
    double score;
    size_t first;
  };
  std::vector<Scored> scored;
  std::set<std::string> seen;
  for (size_t i = 0; i < phrases.size(); ++i) {
    std::string joined;
    double score = 0;
    for (const auto& w : phrases[i]) {
      joined += (joined.empty() ? "" : " ") + w;
      score += degree[w] / frequency[w];
    }
    if (seen.insert(joined).second) scored.push_back({joined, score, i});
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const Scored& a, const Scored& b) { return a.score > b.score; });
  std::vector<std::string> out;
  for (const auto& s : scored) {
    if (static_cast<int64_t>(out.size()) >= max_phrases) break;
    out.push_back(s.phrase);
  }
  return out;
}

std::string tlm_query(const std::string& text, const RetrievalOptions& options) {
  if (static_cast<int64_t>(analyze(text).size()) <= options.long_text_words) return text;
  std::string query;
  for (const auto& p : rake_key_phrases(text, options.max_phrases))
    query += (query.empty() ? "" : " ") + p;
  return query;
}

std::vector<int64_t> retrieve_external_set(const Bm25Index& index,
                                           const std::vector<std::string>& task_texts,
                                           const RetrievalOptions& options) {
  std::set<int64_t> set;
  for (const auto& text : task_texts)
    for (const Bm25Hit& h : index.search(tlm_query(text, options), options.k))
      set.insert(h.doc);
  return {set.begin(), set.end()};
}

std::vector<int64_t> random_external_set(int64_t corpus_size, int64_t count, uint64_t seed) {
  GRAFT_INPUT_CHECK(count >= 0 && count <= corpus_size,
                    "random retrieval asks for " << count << " of " << corpus_size << " documents");
  std::vector<int64_t> all(static_cast<size_t>(corpus_size));
  for (int64_t i = 0; i < corpus_size; ++i)
    all[static_cast<size_t>(i)] = i;
  Rng rng(seed);
  rng.shuffle(all.begin(), all.end());
  all.resize(static_cast<size_t>(count));
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace graft::recipe_tasks
