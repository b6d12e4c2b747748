#include "data/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <unordered_map>

#include "data/text_documents.h"
#include "ops/check.h"

namespace graft {

namespace {

const char* const kSpecialPieces[kNumSpecialIds] = {"<pad>",  "<s>",   "</s>", "<unk>",
                                                    "[MASK]", "[CLS]", "[SEP]"};

std::string sentinel_text(int k) {
  return "<extra_id_" + std::to_string(k) + ">";
}

// Feeds SentencePiece the lines of the training documents (a line is one
// paragraph; documents never span lines in SentencePiece's view).
class LineIterator : public sentencepiece::SentenceIterator {
 public:
  explicit LineIterator(std::vector<std::string> lines) : lines_(std::move(lines)) {}
  bool done() const override { return index_ >= lines_.size(); }
  void Next() override { ++index_; }
  const std::string& value() const override { return lines_[index_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  std::vector<std::string> lines_;
  size_t index_ = 0;
};

std::vector<std::string> training_lines(const std::vector<std::string>& inputs) {
  std::vector<std::string> lines;
  auto add_lines = [&](const std::string& text) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) lines.push_back(line);
    }
  };
  for (const std::string& path : inputs) {
    if (std::filesystem::path(path).extension() == ".tsv") {
      // Both columns: a classification label is short, seq2seq targets matter.
      for (auto& [a, b] : read_tsv_pairs(path)) {
        add_lines(a);
        add_lines(b);
      }
    } else {
      for (const std::string& doc : read_text_documents(path))
        add_lines(doc);
    }
  }
  return lines;
}

}  // namespace

Tokenizer Tokenizer::from_serialized(const std::string& bytes, const std::string& origin) {
  auto sp = std::make_shared<sentencepiece::SentencePieceProcessor>();
  const auto status = sp->LoadFromSerializedProto(bytes);
  GRAFT_INPUT_CHECK(status.ok(),
                    origin << " is not a SentencePiece model (" << status.ToString() << ")");
  for (int32_t id = 0; id < kNumSpecialIds; ++id) {
    GRAFT_INPUT_CHECK(id < sp->GetPieceSize() && sp->IdToPiece(id) == kSpecialPieces[id],
                      origin << " is not a graft tokenizer: piece " << id << " is '"
                             << (id < sp->GetPieceSize() ? sp->IdToPiece(id) : "")
                             << "', expected '" << kSpecialPieces[id]
                             << "' (train it with 'graft tokenizer train')");
  }
  Tokenizer t;
  t.pieces_ = sp->GetPieceSize();
  t.vocab_size_ = t.pieces_ + kNumSentinels;
  t.sp_ = std::move(sp);
  t.serialized_ = bytes;
  return t;
}

Tokenizer Tokenizer::load(const std::string& path) {
  GRAFT_INPUT_CHECK(std::filesystem::is_regular_file(path),
                    "tokenizer model " << path << " not found");
  std::ifstream in(path, std::ios::binary);
  GRAFT_INPUT_CHECK(in, "cannot read tokenizer model " << path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return from_serialized(bytes.str(), "tokenizer model " + path);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  static const std::regex kSentinel("<extra_id_([0-9]{1,2})>");
  std::vector<int32_t> ids;
  auto encode_plain = [&](std::string_view part) {
    if (part.empty()) return;
    std::vector<int> piece_ids;
    const auto status = sp_->Encode(part, &piece_ids);
    GRAFT_CHECK(status.ok(), "SentencePiece encode failed: " << status.ToString());
    ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
  };
  if (text.find("<extra_id_") == std::string_view::npos) {  // the common case: no regex
    encode_plain(text);
    return ids;
  }
  const std::string owned(text);
  size_t pos = 0;
  for (auto it = std::sregex_iterator(owned.begin(), owned.end(), kSentinel);
       it != std::sregex_iterator(); ++it) {
    const auto& match = *it;
    encode_plain(std::string_view(owned).substr(pos, match.position() - pos));
    ids.push_back(sentinel(std::stoi(match[1].str())));
    pos = match.position() + match.length();
  }
  encode_plain(std::string_view(owned).substr(pos));
  return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string text;
  std::vector<int> run;
  auto flush = [&] {
    if (run.empty()) return;
    std::string part;
    const auto status = sp_->Decode(run, &part);
    GRAFT_CHECK(status.ok(), "SentencePiece decode failed: " << status.ToString());
    text += part;
    run.clear();
  };
  for (int32_t id : ids) {
    GRAFT_CHECK(id >= 0 && id < vocab_size_,
                "token id " << id << " outside the vocabulary of " << vocab_size_);
    if (id >= pieces_) {
      flush();
      text += sentinel_text(static_cast<int>(vocab_size_ - 1 - id));
    } else {
      run.push_back(id);
    }
  }
  flush();
  return text;
}

int32_t Tokenizer::piece_to_id(const std::string& piece) const {
  static const std::regex kSentinel("<extra_id_([0-9]{1,2})>");
  std::smatch match;
  if (std::regex_match(piece, match, kSentinel)) return sentinel(std::stoi(match[1].str()));
  return sp_->PieceToId(piece);
}

std::string Tokenizer::id_to_piece(int32_t id) const {
  GRAFT_CHECK(id >= 0 && id < vocab_size_,
              "token id " << id << " outside the vocabulary of " << vocab_size_);
  if (id >= pieces_) return sentinel_text(static_cast<int>(vocab_size_ - 1 - id));
  return sp_->IdToPiece(id);
}

Tokenizer train_tokenizer(const TokenizerTrainOptions& options) {
  GRAFT_INPUT_CHECK(!options.inputs.empty(), "no training input given");
  GRAFT_INPUT_CHECK(!options.model_prefix.empty(), "no model prefix given");
  GRAFT_INPUT_CHECK(options.type == "unigram" || options.type == "bpe",
                    "tokenizer type must be unigram or bpe, got '" << options.type << "'");
  const int64_t pieces = options.vocab_size - kNumSentinels;
  // Byte fallback needs 256 byte pieces besides the specials.
  GRAFT_INPUT_CHECK(pieces >= kNumSpecialIds + 256 + 16,
                    "vocabulary size " << options.vocab_size << " is too small (at least "
                                       << kNumSentinels + kNumSpecialIds + 256 + 16 << ")");
  LineIterator lines(training_lines(options.inputs));
  GRAFT_INPUT_CHECK(!lines.done(), "the training inputs hold no text");

  const std::unordered_map<std::string, std::string> args = {
      {"model_type", options.type},
      {"vocab_size", std::to_string(pieces)},
      {"pad_id", "0"},
      {"bos_id", "1"},
      {"eos_id", "2"},
      {"unk_id", "3"},
      {"pad_piece", "<pad>"},
      {"bos_piece", "<s>"},
      {"eos_piece", "</s>"},
      {"unk_piece", "<unk>"},
      // Control symbols take the next free ids in order (4, 5, 6) and never
      // come out of encoding user text.
      {"control_symbols", "[MASK],[CLS],[SEP]"},
      // Lossless: any byte round-trips, including newlines.
      {"byte_fallback", "true"},
      {"normalization_rule_name", "nfkc"},
      {"remove_extra_whitespaces", "false"},
      {"split_digits", "true"},
      {"character_coverage", std::to_string(options.character_coverage)},
      {"input_sentence_size", std::to_string(options.max_sentences)},
      {"shuffle_input_sentence", "true"},
      // Small corpora cannot always fill the requested vocabulary.
      {"hard_vocab_limit", "false"},
      {"num_threads", std::to_string(std::max(1, options.threads))},
      {"minloglevel", "1"},
  };
  sentencepiece::SetRandomGeneratorSeed(static_cast<unsigned int>(options.seed + 1));
  std::string serialized;
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &lines, &serialized);
  GRAFT_INPUT_CHECK(status.ok(), "SentencePiece training failed: " << status.ToString());

  Tokenizer tokenizer = Tokenizer::from_serialized(serialized, "the trained model");
  const std::string model_path = options.model_prefix + ".model";
  {
    std::ofstream out(model_path + ".tmp", std::ios::binary);
    out << serialized;
    GRAFT_INPUT_CHECK(out.good(), "cannot write " << model_path);
  }
  std::filesystem::rename(model_path + ".tmp", model_path);
  std::ofstream vocab(options.model_prefix + ".vocab");
  for (int32_t id = 0; id < tokenizer.vocab_size(); ++id) {
    vocab << tokenizer.id_to_piece(id) << "\n";
  }
  GRAFT_INPUT_CHECK(vocab.good(), "cannot write " << options.model_prefix << ".vocab");
  return tokenizer;
}

}  // namespace graft
