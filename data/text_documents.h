// Reading the corpus files of data/corpora (formats in data/README.md):
//   text (.txt)           documents separated by an empty line
//   classification (.tsv) "label<TAB>text" per line
//   seq2seq (.tsv)        "source<TAB>target" per line
// A missing or unreadable file, or a TSV line without a tab, is an InputError
// naming the file (and line).
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
