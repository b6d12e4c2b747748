#include "train/token_stream.h"

#include "data/random.h"
#include "ops/check.h"

namespace graft {

TokenStream::TokenStream(std::vector<int32_t> tokens, int64_t seq_len, int32_t first_text_id)
    : tokens_(std::move(tokens)), seq_len_(seq_len), first_text_id_(first_text_id) {
  GRAFT_INPUT_CHECK(seq_len_ >= 1, "seq_len must be >= 1, got " << seq_len_);
  GRAFT_INPUT_CHECK(size() > seq_len_, "the token stream has " << size()
                                                               << " tokens, too few for one "
                                                                  "window of seq_len + 1 = "
                                                               << seq_len_ + 1);
}

Batch TokenStream::batch_from_starts(const std::vector<int64_t>& starts) const {
  const int64_t b = static_cast<int64_t>(starts.size());
  std::vector<int32_t> inputs(static_cast<size_t>(b * seq_len_));
  std::vector<int32_t> targets(inputs.size());
  int64_t bytes = 0;
  for (int64_t r = 0; r < b; ++r) {
    const int32_t* window = tokens_.data() + starts[static_cast<size_t>(r)];
    for (int64_t t = 0; t < seq_len_; ++t) {
      inputs[static_cast<size_t>(r * seq_len_ + t)] = window[t];
      targets[static_cast<size_t>(r * seq_len_ + t)] = window[t + 1];
      bytes += window[t + 1] >= first_text_id_;
    }
  }
  Batch batch;
  batch.input_ids = Tensor::from_vector(inputs, {b, seq_len_});
  batch.targets = Tensor::from_vector(targets, {b, seq_len_});
  batch.text_bytes = bytes;
  return batch;
}

Batch TokenStream::random_batch(uint64_t seed, uint64_t index, int64_t batch_size) const {
  GRAFT_CHECK(batch_size >= 1, "batch_size must be >= 1");
  Rng rng(derive_seed(seed, index));
  const uint64_t positions = static_cast<uint64_t>(size() - seq_len_);
  std::vector<int64_t> starts(static_cast<size_t>(batch_size));
  for (int64_t& s : starts)
    s = static_cast<int64_t>(rng.below(positions));
  return batch_from_starts(starts);
}

std::vector<Batch> TokenStream::sequential_batches(int64_t batch_size, int64_t max_batches) const {
  GRAFT_CHECK(batch_size >= 1, "batch_size must be >= 1");
  std::vector<Batch> batches;
  int64_t next = 0;
  for (int64_t k = 0; k < max_batches; ++k) {
    std::vector<int64_t> starts;
    for (int64_t r = 0; r < batch_size; ++r, next += seq_len_) {
      if (next + seq_len_ >= size()) return batches;
      starts.push_back(next);
    }
    batches.push_back(batch_from_starts(starts));
  }
  return batches;
}

}  // namespace graft
