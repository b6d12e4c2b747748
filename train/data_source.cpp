#include "train/data_source.h"

#include <cstdio>

#include "data/byte_tokenizer.h"
#include "data/fortune_corpus.h"
#include "train/store_data.h"
#include "train/token_stream.h"

namespace graft {

TrainingData make_training_data(const DataConfig& data, const TrainingConfig& training) {
  if (data.source == "store") {
    GRAFT_INPUT_CHECK(
        data.objective != "rtd" && data.objective != "spactor" && data.objective != "tlm",
        "data.objective = \"" << data.objective
                              << "\" is built by the recipe runner: run it "
                                 "with graft recipe run (recipes/README.md)");
    return make_store_training_data(data, training);
  }
  GRAFT_INPUT_CHECK(data.source == "fortunes" && data.objective == "clm",
                    "data.source = \"" << data.source << "\" with data.objective = \""
                                       << data.objective << "\" is not available yet");
  const std::vector<std::string> entries = read_fortune_entries(data.dir);
  const DocumentSplit split =
      split_documents(entries, data.valid_fraction, static_cast<uint64_t>(data.split_seed));
  GRAFT_INPUT_CHECK(!split.train.empty() && !split.valid.empty(),
                    "data.dir = " << data.dir << ": " << entries.size()
                                  << " documents are too few to split into train and validation");
  auto train = std::make_shared<TokenStream>(pack_documents(split.train), training.seq_len,
                                             ByteTokenizer::kFirstByte);
  const TokenStream valid(pack_documents(split.valid), training.seq_len, ByteTokenizer::kFirstByte);

  TrainingData out;
  const uint64_t seed = static_cast<uint64_t>(training.seed);
  const int64_t batch_size = training.batch_size;
  const int64_t accum = training.grad_accum;
  out.train = [train, seed, batch_size, accum](int64_t step, int64_t micro) {
    return train->random_batch(seed, static_cast<uint64_t>((step - 1) * accum + micro), batch_size);
  };
  out.valid = valid.sequential_batches(batch_size, training.eval_batches);
  char line[256];
  std::snprintf(line, sizeof(line),
                "fortunes in %s: %zu documents (%zu train, %zu validation), %lld train tokens, "
                "%zu validation batches of %lld x %lld",
                data.dir.c_str(), entries.size(), split.train.size(), split.valid.size(),
                static_cast<long long>(train->size()), out.valid.size(),
                static_cast<long long>(batch_size), static_cast<long long>(training.seq_len));
  out.description = line;
  return out;
}

std::unique_ptr<Task> make_task(const DataConfig& data, const ModelConfig& model) {
  if (data.objective == "mlm") {
    return std::make_unique<TokenPredictionTask>(TokenPredictionTask::Head::mlm);
  }
  if (data.objective == "classification") return std::make_unique<ClassificationTask>();
  GRAFT_INPUT_CHECK(
      data.objective == "clm" || data.objective == "span_corruption" || data.objective == "seq2seq",
      "data.objective = \"" << data.objective
                            << "\" is built by the recipe runner (graft recipe "
                               "run, recipes/README.md)");
  return std::make_unique<TokenPredictionTask>(TokenPredictionTask::Head::lm);
}

}  // namespace graft
