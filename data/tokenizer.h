// SentencePiece tokenizers with graft's special ids (data/vocab.h).
//
// The SentencePiece model holds <pad> <s> </s> <unk> [MASK] [CLS] [SEP] at ids
// 0..6 and the ordinary pieces after them; the 100 T5 sentinels are appended
// above it, as T5 does: vocab_size() = pieces + 100 and <extra_id_k> is
// vocab_size()-1-k. Sentinels written literally in text ("<extra_id_3>") are
// encoded to their ids and decoded back to that text.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "data/vocab.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace graft {

class Tokenizer {
 public:
  // Loads a .model file. Missing, unreadable, not a SentencePiece model, or
  // lacking graft's specials: InputError naming the file.
  static Tokenizer load(const std::string& path);
  // Loads from serialized model bytes (as embedded in a token store or a
  // checkpoint); `origin` names where they came from in error messages.
  static Tokenizer from_serialized(const std::string& bytes, const std::string& origin);

  std::vector<int32_t> encode(std::string_view text) const;
  // Specials (pad, bos, eos, ...) decode to nothing; sentinels to their text.
  std::string decode(const std::vector<int32_t>& ids) const;

  int32_t piece_to_id(const std::string& piece) const;  // unk id when unknown
  std::string id_to_piece(int32_t id) const;
  int64_t vocab_size() const { return vocab_size_; }
  Vocab vocab() const { return Vocab(vocab_size_); }
  int32_t sentinel(int k) const { return vocab().sentinel(k); }
  // The SentencePiece model's bytes, for embedding.
  const std::string& serialized() const { return serialized_; }

 private:
  Tokenizer() = default;
  std::shared_ptr<const sentencepiece::SentencePieceProcessor> sp_;
  std::string serialized_;
  int64_t pieces_ = 0;  // SentencePiece's own size
  int64_t vocab_size_ = 0;
};

struct TokenizerTrainOptions {
  std::vector<std::string> inputs;  // corpus files (.txt documents or .tsv pairs)
  std::string model_prefix;         // writes PREFIX.model and PREFIX.vocab
  int64_t vocab_size = 8000;        // total, including the 100 sentinels
  std::string type = "unigram";     // unigram or bpe
  int64_t max_sentences = 2000000;  // lines sampled for training
  double character_coverage = 0.9995;
  uint64_t seed = 0;
  int threads = 2;
};

// Trains a SentencePiece model with graft's specials pinned, writes
// PREFIX.model and PREFIX.vocab (one piece per line, line number = id,
// sentinels included), and
// returns the tokenizer. Bad options or inputs: InputError.
Tokenizer train_tokenizer(const TokenizerTrainOptions& options);

}  // namespace graft
