// Causal-LM batches cut from one packed token stream (documents joined as
// BOS text EOS ...): the quickstart's and the "fortunes" source's loader until
// data/ provides the HDF5 token store's loaders.
//
// Training windows start at positions drawn from a counter-based generator
// seeded by (seed, index), so batch k is the same on every run and machine;
// validation windows tile the stream from its start, so every evaluation sees
// the same text.
#pragma once

#include <cstdint>
#include <vector>

#include "train/batch.h"

namespace graft {

class TokenStream {
 public:
  // tokens: the packed stream; seq_len: positions per example (each window
  // holds seq_len + 1 tokens: inputs and the next-token targets).
  // first_text_id: ids below it are specials (no text bytes).
  TokenStream(std::vector<int32_t> tokens, int64_t seq_len, int32_t first_text_id);

  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  int64_t seq_len() const { return seq_len_; }

  // batch_size random windows; `index` numbers the batch within the run.
  Batch random_batch(uint64_t seed, uint64_t index, int64_t batch_size) const;
  // Up to max_batches batches of consecutive, non-overlapping windows (fewer
  // when the stream runs out; a partial batch is dropped).
  std::vector<Batch> sequential_batches(int64_t batch_size, int64_t max_batches) const;

 private:
  Batch batch_from_starts(const std::vector<int64_t>& starts) const;
  std::vector<int32_t> tokens_;
  int64_t seq_len_;
  int32_t first_text_id_;
};

}  // namespace graft
