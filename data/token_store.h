// The HDF5 token store: a tokenized corpus split, the tokenizer that made it
// and where its text came from, in one file (layout: data/README.md).
//
// A store holds documents (token id runs, each ending in EOS) of one kind:
// text (for packing), classification (each with a label) or seq2seq (each
// with a target run). Stores are small enough to read whole (tens of MB per
// split at the `small` scale), which keeps the loader simple and fast.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "data/text_documents.h"
#include "data/tokenizer.h"

namespace graft {

inline constexpr const char* kTokenStoreFormat = "graft-token-store";
inline constexpr int64_t kTokenStoreVersion = 1;

struct TokenStore {
  DocumentKind kind = DocumentKind::text;
  std::string split = "train";
  int64_t vocab_size = 0;
  std::vector<int32_t> tokens;         // every document's tokens, concatenated
  std::vector<int64_t> doc_offsets;    // document i is tokens[offsets[i], offsets[i+1])
  std::vector<int32_t> target_tokens;  // seq2seq only
  std::vector<int64_t> target_offsets;
  std::vector<int32_t> labels;  // classification only, index into label_names
  std::vector<std::string> label_names;
  std::string tokenizer_model;  // serialized SentencePiece model
  std::string source_manifest;  // JSON: inputs, sizes, corpus manifests

  int64_t num_documents() const { return static_cast<int64_t>(doc_offsets.size()) - 1; }
  int64_t num_tokens() const { return static_cast<int64_t>(tokens.size()); }
  std::span<const int32_t> document(int64_t i) const;
  std::span<const int32_t> target(int64_t i) const;
  Tokenizer tokenizer() const;

  // Writes to "<path>.tmp" and renames; checks invariants first.
  void save(const std::string& path) const;
  // Reads and validates. Missing, not HDF5, truncated, foreign (no graft
  // format attribute) or inconsistent: InputError naming the file.
  static TokenStore load(const std::string& path);
};

struct PrepareOptions {
  std::vector<std::string> inputs;  // corpus files (data/corpora formats)
  std::string tokenizer;            // SentencePiece .model from `graft tokenizer train`
  std::string output;               // STORE.h5
  std::string split;                // recorded name; empty: from the first input's stem
  DocumentKind kind = DocumentKind::text;
  // Classification label order (so every split maps labels alike); empty:
  // the sorted distinct labels of the inputs.
  std::vector<std::string> labels;
  int64_t max_document_tokens = 0;  // >0 truncates longer documents
};

// Tokenizes the inputs (documents in order, EOS appended to each) and writes
// the store. Returns it.
TokenStore prepare_token_store(const PrepareOptions& options);

}  // namespace graft
