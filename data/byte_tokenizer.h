// Byte-level tokenizer: every UTF-8 byte is a token, after three specials.
// Needs no training, so the quickstart runs before SentencePiece models exist.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace graft {

struct ByteTokenizer {
  static constexpr int32_t kPad = 0;
  static constexpr int32_t kBos = 1;
  static constexpr int32_t kEos = 2;
  static constexpr int32_t kFirstByte = 3;
  static constexpr int32_t kVocabSize = kFirstByte + 256;

  static std::vector<int32_t> encode(const std::string& text);
  static std::string decode(const std::vector<int32_t>& ids);  // specials are skipped
};

// Concatenates documents as BOS text EOS, BOS text EOS, ... into one stream.
std::vector<int32_t> pack_documents(const std::vector<std::string>& documents);

}  // namespace graft
