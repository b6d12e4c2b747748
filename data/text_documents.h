// Reading the corpus files of data/corpora (formats in data/README.md):
//   text (.txt)           documents separated by an empty line
//   classification (.tsv) "label<TAB>text" per line
//   seq2seq (.tsv)        "source<TAB>target" per line
// A missing or unreadable file, or a TSV line without a tab, is an InputError
// naming the file (and line). So is a byte that is not well-formed UTF-8
// (data/utf8.h): "FILE:LINE: invalid UTF-8 at byte offset N of the file
// (column C of the line): why" for the first one (N from 0, LINE and C from
// 1); nothing is returned.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace graft {

enum class DocumentKind { text, classification, seq2seq };

DocumentKind parse_document_kind(const std::string& name);  // InputError on others
const char* document_kind_name(DocumentKind kind);

// Documents of a text file; a document's lines are joined with '\n'.
std::vector<std::string> read_text_documents(const std::string& path);

// (first, second) column pairs of a TSV file: (label, text) or (source, target).
std::vector<std::pair<std::string, std::string>> read_tsv_pairs(const std::string& path);

}  // namespace graft
