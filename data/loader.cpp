#include "data/loader.h"

#include <algorithm>
#include <cstring>

#include "data/random.h"
#include "ops/check.h"

namespace graft {

std::vector<int64_t> LoaderCursor::to_vector() const {
  return {step, static_cast<int64_t>(seed), num_samples, global_batch};
}

LoaderCursor LoaderCursor::from_vector(const std::vector<int64_t>& values) {
  GRAFT_INPUT_CHECK(values.size() == 4, "a loader cursor has 4 values, got " << values.size());
  LoaderCursor c;
  c.step = values[0];
  c.seed = static_cast<uint64_t>(values[1]);
  c.num_samples = values[2];
  c.global_batch = values[3];
  return c;
}

SampleSchedule::SampleSchedule(int64_t num_samples, const LoaderOptions& options)
    : num_samples_(num_samples), options_(options) {
  GRAFT_INPUT_CHECK(options.batch_size > 0,
                    "batch size must be positive, got " << options.batch_size);
  GRAFT_INPUT_CHECK(
      options.dp_size > 0 && options.dp_rank >= 0 && options.dp_rank < options.dp_size,
      "data-parallel rank " << options.dp_rank << " of " << options.dp_size);
  global_batch_ = options.batch_size * options.dp_size;
  steps_per_epoch_ = num_samples / global_batch_;
  GRAFT_INPUT_CHECK(steps_per_epoch_ > 0,
                    "the data holds " << num_samples << " samples, fewer than one global batch of "
                                      << global_batch_ << " (batch " << options.batch_size << " x "
                                      << options.dp_size << " data-parallel ranks)");
}

const std::vector<int64_t>& SampleSchedule::epoch_order(int64_t epoch) const {
  if (epoch != cached_epoch_) {
    cached_order_.resize(static_cast<size_t>(num_samples_));
    for (int64_t i = 0; i < num_samples_; ++i)
      cached_order_[i] = i;
    Rng rng(derive_seed(options_.seed, static_cast<uint64_t>(epoch)));
    rng.shuffle(cached_order_.begin(), cached_order_.end());
    cached_epoch_ = epoch;
  }
  return cached_order_;
}

std::vector<int64_t> SampleSchedule::rank_samples(int64_t step) const {
  GRAFT_CHECK(step >= 0, "negative step " << step);
  const int64_t epoch = step / steps_per_epoch_;
  const int64_t first =
      (step % steps_per_epoch_) * global_batch_ + options_.dp_rank * options_.batch_size;
  const std::vector<int64_t>& order = epoch_order(epoch);
  return std::vector<int64_t>(order.begin() + first, order.begin() + first + options_.batch_size);
}

LoaderBase::LoaderBase(int64_t num_samples, const LoaderOptions& options)
    : schedule_(num_samples, options), options_(options) {}

LoaderCursor LoaderBase::cursor() const {
  return LoaderCursor{step_, options_.seed, schedule_.num_samples(), schedule_.global_batch()};
}

void LoaderBase::restore(const LoaderCursor& c) {
  GRAFT_INPUT_CHECK(c.seed == options_.seed && c.num_samples == schedule_.num_samples() &&
                        c.global_batch == schedule_.global_batch() && c.step >= 0,
                    "the saved loader cursor (seed "
                        << c.seed << ", " << c.num_samples << " samples, global batch "
                        << c.global_batch << ") does not match this loader (seed " << options_.seed
                        << ", " << schedule_.num_samples() << " samples, global batch "
                        << schedule_.global_batch() << ")");
  step_ = c.step;
}

PackedLoader::PackedLoader(std::shared_ptr<const TokenStore> store, int64_t sample_length,
                           const LoaderOptions& options)
    : LoaderBase(sample_length > 0 ? store->num_tokens() / sample_length : 0, options),
      store_(std::move(store)),
      length_(sample_length) {
  GRAFT_INPUT_CHECK(sample_length > 0, "sample length must be positive");
}

Tensor PackedLoader::batch(int64_t step) const {
  const std::vector<int64_t> samples = schedule_.rank_samples(step);
  Tensor out = Tensor::empty({options_.batch_size, length_}, DType::i32);
  int32_t* dst = out.data<int32_t>();
  for (size_t b = 0; b < samples.size(); ++b) {
    std::memcpy(dst + b * length_, store_->tokens.data() + samples[b] * length_,
                sizeof(int32_t) * static_cast<size_t>(length_));
  }
  return out;
}

Tensor PackedLoader::next() {
  return batch(step_++);
}

DocumentLoader::DocumentLoader(std::shared_ptr<const TokenStore> store,
                               const LoaderOptions& options)
    : LoaderBase(store->num_documents(), options), store_(std::move(store)) {}

std::vector<Example> DocumentLoader::batch(int64_t step) const {
  std::vector<Example> examples;
  for (int64_t i : schedule_.rank_samples(step)) {
    Example e;
    e.index = i;
    const auto doc = store_->document(i);
    e.tokens.assign(doc.begin(), doc.end());
    if (store_->kind == DocumentKind::seq2seq) {
      const auto target = store_->target(i);
      e.target.assign(target.begin(), target.end());
    }
    if (store_->kind == DocumentKind::classification) e.label = store_->labels[i];
    examples.push_back(std::move(e));
  }
  return examples;
}

std::vector<Example> DocumentLoader::next() {
  return batch(step_++);
}

}  // namespace graft
