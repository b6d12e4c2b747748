#include "train/store_data.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

#include "data/loader.h"
#include "recipes/objectives/clm.h"
#include "recipes/objectives/mlm.h"
#include "recipes/objectives/span_corruption.h"
#include "recipes/objectives/tasks.h"

namespace graft {

namespace {

Batch lm_batch(const objectives::LmBatch& b) {
  Batch out;
  out.input_ids = b.input_ids;
  out.input_mask = b.attention_mask;
  out.targets = b.labels;
  return out;
}

Batch seq2seq_batch(const objectives::Seq2SeqBatch& b) {
  Batch out;
  out.encoder_ids = b.input_ids;
  out.encoder_mask = b.attention_mask;
  out.input_ids = b.decoder_input_ids;
  out.input_mask = b.decoder_attention_mask;
  out.targets = b.labels;
  return out;
}

Batch classification_batch(const objectives::ClassificationBatch& b) {
  Batch out;
  out.input_ids = b.input_ids;
  out.input_mask = b.attention_mask;
  out.targets = b.labels;
  return out;
}

// Batch number `index` of a store under one objective, with objective seed
// `seed`: what both training (index = micro_index) and validation use.
using StoreBatch = std::function<Batch(int64_t index, uint64_t seed)>;

struct Built {
  StoreBatch batch;
  int64_t samples = 0;
  int64_t steps_per_epoch = 0;
  std::string tokenizer;  // the store's serialized tokenizer, for checkpoints
  int64_t vocab_size = 0;
};

Built build(const DataConfig& data, const TrainingConfig& training, const std::string& path,
            const std::string& key, uint64_t loader_seed) {
  const std::string& objective = data.objective;
  const bool text = objective == "clm" || objective == "mlm" || objective == "span_corruption";
  const DocumentKind kind = text                            ? DocumentKind::text
                            : objective == "classification" ? DocumentKind::classification
                                                            : DocumentKind::seq2seq;
  auto store = load_store_of_kind(path, kind, key);
  LoaderOptions options;
  options.batch_size = training.batch_size;
  options.seed = loader_seed;
  const int64_t seq_len = training.seq_len;
  const Vocab vocab(store->vocab_size);
  Built out;
  out.tokenizer = store->tokenizer().serialized();
  out.vocab_size = store->vocab_size;
  try {
    if (text) {
      int64_t length = seq_len;
      if (objective == "clm") length = seq_len + 1;
      if (objective == "span_corruption") length = objectives::span_corruption_raw_length(seq_len);
      auto loader = std::make_shared<PackedLoader>(store, length, options);
      out.samples = loader->schedule().num_samples();
      out.steps_per_epoch = loader->schedule().steps_per_epoch();
      if (objective == "clm") {
        out.batch = [loader](int64_t i, uint64_t) {
          return lm_batch(objectives::make_clm_batch(loader->batch(i)));
        };
      } else if (objective == "mlm") {
        out.batch = [loader, vocab](int64_t i, uint64_t seed) {
          return lm_batch(objectives::make_mlm_batch(loader->batch(i), vocab, seed));
        };
      } else {
        out.batch = [loader, vocab](int64_t i, uint64_t seed) {
          return seq2seq_batch(
              objectives::make_span_corruption_batch(loader->batch(i), vocab, seed));
        };
      }
    } else {
      auto loader = std::make_shared<DocumentLoader>(store, options);
      out.samples = loader->schedule().num_samples();
      out.steps_per_epoch = loader->schedule().steps_per_epoch();
      if (kind == DocumentKind::classification) {
        out.batch = [loader, seq_len](int64_t i, uint64_t) {
          return classification_batch(
              objectives::make_classification_batch(loader->batch(i), seq_len));
        };
      } else {
        out.batch = [loader, seq_len](int64_t i, uint64_t) {
          return seq2seq_batch(objectives::make_seq2seq_batch(loader->batch(i), seq_len, seq_len));
        };
      }
    }
  } catch (const InputError& e) {
    throw InputError(key + " = " + path + ": " + e.what());
  }
  return out;
}

}  // namespace

std::shared_ptr<const TokenStore> load_store_of_kind(const std::string& path, DocumentKind kind,
                                                     const std::string& key) {
  GRAFT_INPUT_CHECK(!path.empty(), key << " is empty (the path of a `graft data prepare` store)");
  auto store = std::make_shared<const TokenStore>(TokenStore::load(path));
  GRAFT_INPUT_CHECK(store->kind == kind, key << " = " << path << " is a "
                                             << document_kind_name(store->kind)
                                             << " store; this objective needs a "
                                             << document_kind_name(kind) << " store");
  return store;
}

TrainingData make_store_training_data(const DataConfig& data, const TrainingConfig& training) {
  const uint64_t run_seed = static_cast<uint64_t>(training.seed);
  const Built train = build(data, training, data.train, "data.train", run_seed);
  const uint64_t valid_seed = static_cast<uint64_t>(data.split_seed);
  const Built valid = build(data, training, data.valid, "data.valid", valid_seed);

  TrainingData out;
  const int64_t accum = training.grad_accum;
  const StoreBatch train_batch = train.batch;
  out.train = [train_batch, run_seed, accum](int64_t step, int64_t micro) {
    const int64_t index = micro_index(step, micro, accum);
    return train_batch(index, objectives::objective_seed(run_seed, index));
  };
  const int64_t eval_batches = std::min(training.eval_batches, valid.steps_per_epoch);
  for (int64_t i = 0; i < eval_batches; ++i) {
    out.valid.push_back(valid.batch(i, objectives::objective_seed(valid_seed, i)));
  }
  char line[512];
  std::snprintf(line, sizeof(line),
                "%s from store %s (%lld samples, %lld micro-batches per epoch), %zu validation "
                "batches of %lld from %s",
                data.objective.c_str(), data.train.c_str(), static_cast<long long>(train.samples),
                static_cast<long long>(train.steps_per_epoch), out.valid.size(),
                static_cast<long long>(training.batch_size), data.valid.c_str());
  out.description = line;
  out.tokenizer = train.tokenizer;
  out.vocab_size = std::max(train.vocab_size, valid.vocab_size);
  return out;
}

}  // namespace graft
