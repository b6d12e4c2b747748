// Task: turns a Batch into a loss on the tape (training) or into summed
// statistics (evaluation). The Trainer knows nothing about objectives; a new
// objective that predicts tokens needs only a batch builder (data/ or
// recipes/objectives) producing input_ids/targets for TokenPredictionTask. A
// new kind of loss (RTD, a task head) is a new Task subclass.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "data/vocab.h"
#include "model/flops.h"
#include "model/model.h"
#include "ops/cross_entropy.h"
#include "train/batch.h"

namespace graft {

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;

  // Scalar loss (mean over the micro-batch's counted targets), on the tape.
  virtual Tensor loss(const Model& model, ForwardContext& context, const Batch& batch) const = 0;

  // Summed NLL, counted targets and correct argmax predictions; the caller
  // holds a NoGradGuard.
  virtual CrossEntropyStats stats(const Model& model, const Batch& batch) const = 0;

  // Targets that count toward the mean: weights micro-batches in gradient
  // accumulation so k micro-batches equal one batch k times larger.
  virtual int64_t target_count(const Batch& batch) const;

  // The step shape model/flops.h prices this batch at.
  virtual StepShape shape(const Model& model, const Batch& batch) const;
};

// kIgnoreIndex (-100) is data/vocab.h's, shared with recipes/objectives.

// Softmax cross-entropy over token targets through the LM head (CLM, span
// corruption: decoder or encoder-decoder) or the MLM head (MLM: encoder).
// Evaluation's "correct" is token accuracy.
class TokenPredictionTask : public Task {
 public:
  enum class Head { lm, mlm };
  explicit TokenPredictionTask(Head head, double label_smoothing = 0.0)
      : head_(head), label_smoothing_(label_smoothing) {}
  std::string name() const override { return head_ == Head::lm ? "lm" : "mlm"; }
  Tensor loss(const Model& model, ForwardContext& context, const Batch& batch) const override;
  CrossEntropyStats stats(const Model& model, const Batch& batch) const override;

 private:
  Tensor logits(const Model& model, ForwardContext& context, const Batch& batch) const;
  Head head_;
  double label_smoothing_;
};

// Sequence classification: the classifier head on the encoder's (or, for a
// decoder, the decoder's) states; targets are class labels [B]. Evaluation's
// "correct" is accuracy.
class ClassificationTask : public Task {
 public:
  std::string name() const override { return "classification"; }
  Tensor loss(const Model& model, ForwardContext& context, const Batch& batch) const override;
  CrossEntropyStats stats(const Model& model, const Batch& batch) const override;

 private:
  Tensor logits(const Model& model, ForwardContext& context, const Batch& batch) const;
};

// The hidden states of the model's main stack for a batch: decode for a
// decoder, encode for an encoder, encoder then decoder for an encoder-decoder.
Tensor model_hidden(const Model& model, ForwardContext& context, const Batch& batch);

}  // namespace graft
