#include "data/fortune_corpus.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "ops/check.h"

namespace graft {

namespace {

bool is_text_fortune_file(const std::filesystem::path& path) {
  const std::string ext = path.extension().string();
  const std::string name = path.filename().string();
  // Art files are pictures drawn in characters, not prose.
  return std::filesystem::is_regular_file(path) && ext != ".dat" && ext != ".u8" && name != "art" &&
         name != "ascii-art";
}

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end - begin + 1);
}

}  // namespace

std::vector<std::string> read_fortune_entries(const std::string& directory) {
  namespace fs = std::filesystem;
  GRAFT_INPUT_CHECK(
      fs::is_directory(directory),
      "fortune directory " << directory << " not found (install the Debian package 'fortunes')");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(directory)) {
    if (is_text_fortune_file(entry.path())) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> entries;
  for (const fs::path& file : files) {
    std::ifstream in(file);
    GRAFT_INPUT_CHECK(in, "cannot read " << file.string());
    std::string line, current;
    auto flush = [&] {
      std::string text = trim(current);
      if (!text.empty()) entries.push_back(std::move(text));
      current.clear();
    };
    while (std::getline(in, line)) {
      if (line == "%") {
        flush();
      } else {
        current += line;
        current += '\n';
      }
    }
    flush();
  }
  GRAFT_INPUT_CHECK(!entries.empty(), "no fortune entries found under " << directory);
  return entries;
}

DocumentSplit split_documents(const std::vector<std::string>& documents, double valid_fraction,
                              uint64_t seed) {
  GRAFT_INPUT_CHECK(valid_fraction > 0 && valid_fraction < 1,
                    "validation fraction must be in (0, 1), got " << valid_fraction);
  std::vector<size_t> order(documents.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::mt19937_64 rng(seed);
  // Fisher-Yates by hand: std::shuffle's algorithm is implementation-defined,
  // and the split must be the same with any standard library.
  for (size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1], order[rng() % i]);
  }
  const size_t valid_count =
      std::max<size_t>(1, static_cast<size_t>(valid_fraction * static_cast<double>(order.size())));
  DocumentSplit split;
  for (size_t i = 0; i < order.size(); ++i) {
    (i < valid_count ? split.valid : split.train).push_back(documents[order[i]]);
  }
  return split;
}

}  // namespace graft
