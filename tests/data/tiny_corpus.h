// A small real-text corpus for the data tests: a slice of the fortune files
// (Debian's `fortunes`, which scripts/setup installs), written as a corpus
// text file, and a tokenizer trained on it once per test program.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "data/fortune_corpus.h"
#include "data/tokenizer.h"

namespace graft::testing {

// A per-process scratch folder, removed when the test program exits.
inline std::filesystem::path scratch_dir() {
  struct Scratch {
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("graft-data-test-" + std::to_string(::getpid()));
    Scratch() { std::filesystem::create_directories(dir); }
    ~Scratch() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  };
  static Scratch scratch;
  return scratch.dir;
}

// The first `count` fortune entries (a few hundred KB at most).
inline std::vector<std::string> tiny_documents(size_t count = 800) {
  std::vector<std::string> docs = read_fortune_entries();
  if (docs.size() > count) docs.resize(count);
  return docs;
}

// Writes documents in the corpus text format (empty line between documents).
inline std::string write_corpus(const std::string& name, const std::vector<std::string>& docs) {
  const std::string path = (scratch_dir() / name).string();
  std::ofstream out(path);
  for (const std::string& doc : docs) {
    std::string tidy;
    for (size_t i = 0; i < doc.size(); ++i) {
      // Corpus documents hold no empty lines (data/corpora/corpus.py).
      if (doc[i] == '\n' && (tidy.empty() || tidy.back() == '\n')) continue;
      tidy += doc[i];
    }
    out << tidy << "\n\n";
  }
  return path;
}

// A unigram (or BPE) tokenizer of 600 ids trained on the tiny corpus, once.
inline const std::string& tiny_tokenizer_path(const std::string& type = "unigram") {
  static std::map<std::string, std::string> paths;
  auto it = paths.find(type);
  if (it == paths.end()) {
    TokenizerTrainOptions o;
    o.inputs = {write_corpus("tiny-" + type + ".txt", tiny_documents())};
    o.model_prefix = (scratch_dir() / ("tiny-" + type)).string();
    o.vocab_size = 600;
    o.type = type;
    train_tokenizer(o);
    it = paths.emplace(type, o.model_prefix + ".model").first;
  }
  return it->second;
}

}  // namespace graft::testing
