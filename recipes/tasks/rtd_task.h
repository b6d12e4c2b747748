// ELECTRA replaced-token detection (RECIPES.md "RTD"): one Task that runs the
// generator, samples, and trains the discriminator.
//
// Batches (rtd_task_batch): input_ids = the generator's input (make_rtd_masking:
// 85% of the chosen positions [MASK], 15% kept), input_mask, targets = the
// original token at chosen positions and kIgnoreIndex elsewhere. The original
// row is input_ids with the targets written back, so nothing else travels.
//
// loss = λ_MLM · L_MLM(generator, chosen positions)
//      + λ_RTD · L_RTD(discriminator, every real position)
// with ELECTRA's λ_MLM = 1 (gen_weight), λ_RTD = 50 (disc_weight). The
// sample comes from the generator's logit values (Gumbel-max), so the
// discriminator's loss sends no gradient into the generator: its parameters
// learn from λ_MLM · L_MLM only, while the shared embeddings get both.
//
// Sampling seed: derive_seed(options.seed, context.seed()); the Trainer's
// context seed is a function of (run seed, step, micro-batch), so a step's
// samples are reproducible, and evaluation (context seed 0) always draws the
// same ones.
#pragma once

#include "recipes/objectives/rtd.h"
#include "recipes/tasks/generator.h"
#include "train/task.h"

namespace graft::recipe_tasks {

// Training FLOPs of one micro-batch as model/flops.h prices them, for tasks
// whose cost is not one config's training_step_flops (a generator beside the
// model, heads that exist but do not run).
class PricedTask : public Task {
 public:
  virtual ModelFlops training_flops(const Model& model, const Batch& batch) const = 0;
};

struct RtdLossWeights {
  double mlm = 1.0;   // ELECTRA gen_weight
  double rtd = 50.0;  // ELECTRA disc_weight
};

// The parts of one RTD forward, for stats and tests.
struct RtdParts {
  Tensor mlm_loss, rtd_loss, total;  // scalars on the tape
  Tensor rtd_logits;                 // [B, T]
  objectives::RtdBatch disc;         // what the discriminator read
  int64_t predicted = 0;             // generator positions
};

struct RtdTaskOptions {
  RtdLossWeights weights;
  GeneratorOptions generator;
  uint64_t seed = 0x727464;  // sampling
};

Batch rtd_task_batch(const objectives::RtdMasking& masking);
// The masking a batch stands for (original row rebuilt from the targets).
objectives::RtdMasking rtd_masking_of(const Batch& batch);

// Discriminator replaced-vs-original BCE: labels 0/1, kIgnoreIndex skipped.
Tensor rtd_bce(const Tensor& logits, const Tensor& labels);

class RtdTask : public PricedTask {
 public:
  // discriminator: an encoder with an rtd head; the generator is registered
  // in its parameters (build this before the Trainer).
  explicit RtdTask(Model& discriminator, const RtdTaskOptions& options = {});
  std::string name() const override { return "rtd"; }
  Tensor loss(const Model& model, ForwardContext& context, const Batch& batch) const override;
  // loss_sum / count = the generator's mean MLM loss; correct / count = the
  // discriminator's accuracy over real positions (count).
  CrossEntropyStats stats(const Model& model, const Batch& batch) const override;
  // Real (unpadded) positions: what L_RTD averages over.
  int64_t target_count(const Batch& batch) const override;
  StepShape shape(const Model& model, const Batch& batch) const override;
  ModelFlops training_flops(const Model& model, const Batch& batch) const override;

  RtdParts parts(const Model& model, ForwardContext& context, const Batch& batch) const;
  const Generator& generator() const { return generator_; }
  const RtdTaskOptions& options() const { return options_; }

 private:
  RtdTaskOptions options_;
  Generator generator_;
};

// Sampled [B, T] tensor: `original` with samples written at `positions`.
Tensor scatter_samples(const Tensor& original, const std::vector<int32_t>& positions,
                       const std::vector<int32_t>& samples);
// Reports the model's analytic pricing for the parts a task actually runs.
FlopsSplit sum_parts(const ForwardFlopsParts& parts, bool encoder, bool decoder, bool lm, bool mlm,
                     bool rtd, bool classifier);
ModelFlops train_three_times(const FlopsSplit& forward);

}  // namespace graft::recipe_tasks
