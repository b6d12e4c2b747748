#include "data/text_documents.h"

#include <filesystem>
#include <fstream>

#include "ops/check.h"

namespace graft {

namespace {

std::ifstream open_input(const std::string& path) {
  GRAFT_INPUT_CHECK(std::filesystem::is_regular_file(path), "input file " << path << " not found");
  std::ifstream in(path, std::ios::binary);
  GRAFT_INPUT_CHECK(in, "cannot read input file " << path);
  return in;
}

void strip_cr(std::string& line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
}

}  // namespace

DocumentKind parse_document_kind(const std::string& name) {
  if (name == "text") return DocumentKind::text;
  if (name == "classification") return DocumentKind::classification;
  if (name == "seq2seq") return DocumentKind::seq2seq;
  throw InputError("unknown document kind '" + name + "' (text, classification or seq2seq)");
}

const char* document_kind_name(DocumentKind kind) {
  switch (kind) {
    case DocumentKind::text:
      return "text";
    case DocumentKind::classification:
      return "classification";
    case DocumentKind::seq2seq:
      return "seq2seq";
  }
  return "?";
}

std::vector<std::string> read_text_documents(const std::string& path) {
  std::ifstream in = open_input(path);
  std::vector<std::string> documents;
  std::string line, current;
  auto flush = [&] {
    if (!current.empty()) documents.push_back(std::move(current));
    current.clear();
  };
  while (std::getline(in, line)) {
    strip_cr(line);
    if (line.find_first_not_of(" \t") == std::string::npos) {
      flush();
      continue;
    }
    if (!current.empty()) current += '\n';
    current += line;
  }
  flush();
  return documents;
}

std::vector<std::pair<std::string, std::string>> read_tsv_pairs(const std::string& path) {
  std::ifstream in = open_input(path);
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    strip_cr(line);
    if (line.empty()) continue;
    const size_t tab = line.find('\t');
    GRAFT_INPUT_CHECK(tab != std::string::npos,
                      path << ":" << number << ": expected two tab-separated columns");
    pairs.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
  return pairs;
}

}  // namespace graft
