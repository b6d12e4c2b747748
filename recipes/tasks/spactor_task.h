// SpacTor (Ye et al. 2024, arXiv 2401.13160; RECIPES.md recipe 2).
//
// Stage 1, the first τ steps: SpactorHybridTask. The batch is an RTD-masked
// raw window (rtd_task_batch); the generator fills the chosen positions with
// Gumbel-max samples; make_spactor_batch span-corrupts the replaced row; the
// T5 encoder reads it, the rtd head on the encoder output labels each
// non-sentinel token replaced/original, the decoder reconstructs the ORIGINAL
// spans:  loss = L_SC + λ_RTD · L_RTD + λ_MLM · L_MLM(generator).
// Stage 2, after τ: plain span corruption (SpactorPlainTask on
// make_span_corruption_batch batches); generator and rtd head stay in the
// registry but never run again and are not priced.
//
// Values. The SpacTor paper's λ_RTD, λ_MLM, generator size and τ could not be
// read from any stored copy reachable here (searches of the paper's pages on
// arxiv-vanity, sciencestack and Hugging Face papers returned the abstract
// only), so these are graft's documented defaults, NOT the paper's:
//   λ_RTD = 50, λ_MLM = 1          ELECTRA's disc_weight / gen_weight
//                                  (google-research/electra)
//   generator: ELECTRA's, 1/4 of the T5 encoder's width, same depth, sharing
//              the token and encoder position embeddings (generator.h)
//   τ = 1/8 of the SC baseline's steps   RECIPES.md's default
// Replace them in the recipe file once checked against the paper.
#pragma once

#include <memory>

#include "data/vocab.h"
#include "recipes/objectives/spactor.h"
#include "recipes/objectives/span_corruption.h"
#include "recipes/tasks/rtd_task.h"

namespace graft::recipe_tasks {

struct SpactorOptions {
  double lambda_rtd = 50.0;  // default, see above
  double lambda_mlm = 1.0;   // default, see above
  GeneratorOptions generator;
  objectives::SpanCorruptionOptions span_corruption;
  uint64_t seed = 0x737063;  // sampling and span-corruption noise
};

// τ from the SC baseline's step count (RECIPES.md default: 1/8).
int64_t spactor_tau(int64_t baseline_steps, double fraction = 0.125);

struct SpactorStage1Parts {
  Tensor sc_loss, rtd_loss, mlm_loss, total;
  objectives::SpactorBatch batch;
  Tensor sc_logits;   // [B, T, V]
  Tensor rtd_logits;  // [B, S]
};

class SpactorHybridTask : public PricedTask {
 public:
  // t5: an encoder-decoder with lm and rtd heads.
  SpactorHybridTask(Model& t5, const Vocab& vocab, const SpactorOptions& options = {});
  std::string name() const override { return "spactor-hybrid"; }
  Tensor loss(const Model& model, ForwardContext& context, const Batch& batch) const override;
  // The decoder's span reconstruction (token NLL and accuracy).
  CrossEntropyStats stats(const Model& model, const Batch& batch) const override;
  // Decoder targets the span corruption will produce (known from lengths).
  int64_t target_count(const Batch& batch) const override;
  StepShape shape(const Model& model, const Batch& batch) const override;
  ModelFlops training_flops(const Model& model, const Batch& batch) const override;

  SpactorStage1Parts parts(const Model& model, ForwardContext& context, const Batch& batch) const;
  const Generator& generator() const { return generator_; }

 private:
  Vocab vocab_;
  SpactorOptions options_;
  Generator generator_;
};

// Stage 2: TokenPredictionTask(lm) on span-corruption batches, priced without
// the heads that no longer run (rtd, mlm, classifier).
class SpactorPlainTask : public PricedTask {
 public:
  std::string name() const override { return "span-corruption"; }
  Tensor loss(const Model& model, ForwardContext& context, const Batch& batch) const override {
    return lm_.loss(model, context, batch);
  }
  CrossEntropyStats stats(const Model& model, const Batch& batch) const override {
    return lm_.stats(model, batch);
  }
  ModelFlops training_flops(const Model& model, const Batch& batch) const override;

 private:
  TokenPredictionTask lm_{TokenPredictionTask::Head::lm};
};

// Delegates to `first` for steps 1..tau and to `second` from step tau + 1
// (1-based, the Trainer's numbering). The caller advances it with
// set_next_step before each train_step (the Trainer asks no step of a Task).
class SwitchingTask : public PricedTask {
 public:
  SwitchingTask(const PricedTask& first, const PricedTask& second, int64_t tau);
  void set_next_step(int64_t step) { next_step_ = step; }
  int64_t next_step() const { return next_step_; }
  bool in_first_stage() const { return next_step_ <= tau_; }
  const PricedTask& current() const { return in_first_stage() ? first_ : second_; }
  int64_t tau() const { return tau_; }

  std::string name() const override { return current().name(); }
  Tensor loss(const Model& model, ForwardContext& context, const Batch& batch) const override {
    return current().loss(model, context, batch);
  }
  CrossEntropyStats stats(const Model& model, const Batch& batch) const override {
    return current().stats(model, batch);
  }
  int64_t target_count(const Batch& batch) const override { return current().target_count(batch); }
  StepShape shape(const Model& model, const Batch& batch) const override {
    return current().shape(model, batch);
  }
  ModelFlops training_flops(const Model& model, const Batch& batch) const override {
    return current().training_flops(model, batch);
  }

 private:
  const PricedTask& first_;
  const PricedTask& second_;
  int64_t tau_;
  int64_t next_step_ = 1;
};

// The batch a SpacTor run trains on at `step` from raw windows [B, L]: an
// RTD-masked window for steps <= tau, a span-corruption batch after.
Batch spactor_step_batch(const Tensor& windows, const Vocab& vocab, uint64_t seed, int64_t step,
                         int64_t tau, const SpactorOptions& options = {});

// A span-corruption Seq2SeqBatch as a Trainer Batch.
Batch seq2seq_task_batch(const objectives::Seq2SeqBatch& s);

}  // namespace graft::recipe_tasks
