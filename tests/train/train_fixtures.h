// Small models, synthetic batches and a loss-poisoning task shared by the
// trainer tests: sizes where a step takes milliseconds.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <vector>

#include "model/model.h"
#include "ops/elementwise.h"
#include "train/loop.h"
#include "train/task.h"
#include "train/trainer.h"

namespace graft::testing {

inline ModelConfig small_decoder(int64_t vocab = 23, double dropout = 0.0) {
  ModelConfig c;
  c.kind = ModelKind::decoder;
  c.vocab_size = vocab;
  c.d_model = 16;
  c.num_heads = 2;
  c.d_ff = 32;
  c.decoder_layers = 2;
  c.max_positions = 16;
  c.dropout = dropout;
  return c;
}

// A CLM batch of `rows` sequences of length `len` whose tokens follow a
// learnable pattern plus noise, generated from (seed, first_row) so rows of
// one big batch equal the rows of the micro-batches cut from it.
inline Batch pattern_batch(uint64_t seed, int64_t first_row, int64_t rows, int64_t len,
                           int32_t vocab) {
  std::vector<int32_t> inputs, targets;
  for (int64_t r = first_row; r < first_row + rows; ++r) {
    uint64_t state = mix64(seed * 1000003 + static_cast<uint64_t>(r));
    std::vector<int32_t> seq;
    int32_t token = static_cast<int32_t>(state % vocab);
    for (int64_t t = 0; t <= len; ++t) {
      seq.push_back(token);
      state = mix64(state);
      token = (state % 4 == 0) ? static_cast<int32_t>(state % vocab) : (token * 3 + 1) % vocab;
    }
    inputs.insert(inputs.end(), seq.begin(), seq.end() - 1);
    targets.insert(targets.end(), seq.begin() + 1, seq.end());
  }
  Batch b;
  b.input_ids = Tensor::from_vector(inputs, {rows, len});
  b.targets = Tensor::from_vector(targets, {rows, len});
  return b;
}

// Micro-batch `micro` of step `step`: a fresh pattern batch each time.
inline MicroBatchSource pattern_source(int64_t rows, int64_t len, int32_t vocab,
                                       int64_t accum = 1) {
  return [=](int64_t step, int64_t micro) {
    return pattern_batch(static_cast<uint64_t>(step), micro * rows, rows, len, vocab);
  };
}

inline TrainerOptions quick_options(int64_t steps, uint64_t seed = 0) {
  TrainerOptions o;
  o.schedule.peak_lr = 3e-3;
  o.schedule.min_lr = 3e-4;
  o.schedule.total_steps = steps;
  o.schedule.warmup_steps = 2;
  o.adamw.weight_decay = 0.01;
  o.clip_norm = 1.0;
  o.seed = seed;
  return o;
}

// Steps a trainer through `steps` steps of source; returns the losses.
inline std::vector<double> train_steps(Trainer& trainer, const MicroBatchSource& source,
                                       int64_t steps, int64_t accum = 1) {
  std::vector<double> losses;
  for (int64_t s = 0; s < steps; ++s) {
    std::vector<Batch> micro;
    for (int64_t i = 0; i < accum; ++i)
      micro.push_back(source(trainer.step() + 1, i));
    losses.push_back(trainer.train_step(micro).loss);
  }
  return losses;
}

inline std::vector<Tensor> snapshot(const Parameters& params) {
  std::vector<Tensor> copies;
  for (const NamedParameter& p : params.entries())
    copies.push_back(p.tensor.clone());
  return copies;
}

// Options under which one step's parameter update is the raw gradient: AdamW
// with eps far above |g| turns into lr·g/eps (lr/eps = 1), linear in g, so a
// wrong loss weight shows up at full size (Adam's normal update hides any
// gradient scale).
inline TrainerOptions gradient_as_update_options() {
  TrainerOptions o;
  o.schedule.peak_lr = 1e6;
  o.schedule.decay = DecayKind::constant;
  o.adamw.eps = 1e6;
  o.adamw.weight_decay = 0;
  o.clip_norm = 0;
  return o;
}

// Per parameter, (after - before) of one trainer.train_step(micro).
inline std::vector<std::vector<double>> step_deltas(Model& model, Trainer& trainer,
                                                    const std::vector<Batch>& micro,
                                                    StepResult* result) {
  std::vector<std::vector<double>> before;
  for (const NamedParameter& p : model.parameters().entries())
    before.push_back(p.tensor.to_vector<double>());
  *result = trainer.train_step(micro);
  std::vector<std::vector<double>> deltas;
  const auto& entries = model.parameters().entries();
  for (size_t p = 0; p < entries.size(); ++p) {
    std::vector<double> after = entries[p].tensor.to_vector<double>();
    for (size_t i = 0; i < after.size(); ++i)
      after[i] -= before[p][i];
    deltas.push_back(after);
  }
  return deltas;
}

inline bool bit_identical(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.bytes()) == 0;
}

// Wraps a task and multiplies its loss by NaN on the calls (1-based) listed,
// or on every call from `poison_from` on: a loss that blows up mid-run.
class PoisonedTask : public Task {
 public:
  PoisonedTask(const Task& inner, std::set<int64_t> calls, int64_t poison_from = 0)
      : inner_(inner), calls_(std::move(calls)), from_(poison_from) {}
  std::string name() const override { return "poisoned"; }
  Tensor loss(const Model& model, ForwardContext& context, const Batch& batch) const override {
    ++count_;
    Tensor l = inner_.loss(model, context, batch);
    const bool poison = calls_.count(count_) || (from_ > 0 && count_ >= from_);
    return poison ? scale(l, std::numeric_limits<double>::quiet_NaN()) : l;
  }
  CrossEntropyStats stats(const Model& model, const Batch& batch) const override {
    return inner_.stats(model, batch);
  }

 private:
  const Task& inner_;
  std::set<int64_t> calls_;
  int64_t from_;
  mutable int64_t count_ = 0;
};

}  // namespace graft::testing
