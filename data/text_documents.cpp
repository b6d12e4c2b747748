#include "data/text_documents.h"

#include <filesystem>
#include <fstream>
#include <optional>

#include "data/utf8.h"
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

// The lines of a corpus file, each checked to be UTF-8 before anyone sees
// it: the first ill-formed byte stops the read with its line and offset.
class LineReader {
 public:
  explicit LineReader(const std::string& path) : path_(path), in_(open_input(path)) {}

  bool next(std::string& line) {
    if (!std::getline(in_, line)) return false;
    ++number_;
    if (const std::optional<Utf8Problem> bad = find_invalid_utf8(line)) {
      throw InputError(path_ + ":" + std::to_string(number_) + ": invalid UTF-8 at byte offset " +
                       std::to_string(offset_ + bad->offset) + " of the file (column " +
                       std::to_string(bad->offset + 1) + " of the line): " + bad->reason +
                       "; corpus files must be UTF-8 (convert this one first, e.g. with "
                       "iconv -f latin1 -t utf-8)");
    }
    offset_ += line.size() + 1;  // and its '\n'
    strip_cr(line);
    return true;
  }
  int64_t number() const { return number_; }

 private:
  std::string path_;
  std::ifstream in_;
  int64_t number_ = 0;  // of the line last read, from 1
  size_t offset_ = 0;   // of the next line's first byte
};

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
  LineReader in(path);
  std::vector<std::string> documents;
  std::string line, current;
  auto flush = [&] {
    if (!current.empty()) documents.push_back(std::move(current));
    current.clear();
  };
  while (in.next(line)) {
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
  LineReader in(path);
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string line;
  while (in.next(line)) {
    if (line.empty()) continue;
    const size_t tab = line.find('\t');
    GRAFT_INPUT_CHECK(tab != std::string::npos,
                      path << ":" << in.number() << ": expected two tab-separated columns");
    pairs.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
  return pairs;
}

}  // namespace graft
