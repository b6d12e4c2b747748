#include "data/byte_tokenizer.h"

namespace graft {

std::vector<int32_t> ByteTokenizer::encode(const std::string& text) {
  std::vector<int32_t> ids;
  ids.reserve(text.size());
  for (unsigned char c : text)
    ids.push_back(kFirstByte + static_cast<int32_t>(c));
  return ids;
}

std::string ByteTokenizer::decode(const std::vector<int32_t>& ids) {
  std::string text;
  for (int32_t id : ids) {
    if (id >= kFirstByte && id < kVocabSize) text.push_back(static_cast<char>(id - kFirstByte));
  }
  return text;
}

std::vector<int32_t> pack_documents(const std::vector<std::string>& documents) {
  std::vector<int32_t> stream;
  for (const std::string& doc : documents) {
    stream.push_back(ByteTokenizer::kBos);
    for (int32_t id : ByteTokenizer::encode(doc))
      stream.push_back(id);
    stream.push_back(ByteTokenizer::kEos);
  }
  return stream;
}

}  // namespace graft
