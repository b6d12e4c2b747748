// Real English text from Debian's `fortunes` package: each fortune file holds
// entries separated by lines containing only "%". This is the quickstart's
// corpus until the full acquisition pipeline (data/corpora) exists.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace graft {

inline constexpr const char* kFortuneDirectory = "/usr/share/games/fortunes";

// Entries of every text fortune file in `directory` (skipping the .dat/.u8
// indexes and the ASCII-art files), in file-name order, whitespace-trimmed,
// empty entries dropped. A missing directory is an InputError naming it and
// the package that provides it.
std::vector<std::string> read_fortune_entries(const std::string& directory = kFortuneDirectory);

// Splits entries into train and validation by a seeded shuffle of whole
// documents: the same seed gives the same split.
struct DocumentSplit {
  std::vector<std::string> train;
  std::vector<std::string> valid;
};
DocumentSplit split_documents(const std::vector<std::string>& documents, double valid_fraction,
                              uint64_t seed);

}  // namespace graft
