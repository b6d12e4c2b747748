// Heads: what turns hidden states [B, T, D] into logits for an objective.
//
//   LmHead       logits [B, T, V] = h @ E^T (tied: E = embed.tokens.weight) or
//                h @ lm_head.weight^T (untied); no bias, as in GPT/T5.
//   MlmHead      BERT's: transform (dense + GELU), norm, then the tied decoder
//                E^T plus mlm_head.bias [V].
//   RtdHead      ELECTRA's discriminator: dense + GELU, then out [1, D]:
//                one logit per token, [B, T].
//   Classifier   pool (first token or masked mean) then out [C, D]: [B, C].
// A new head: a class here taking ParamInit and a unique name prefix, a flag or
// field in ModelConfig, its count in model/counts.cpp, its FLOPs in
// model/flops.cpp, and a case in the tests of both.
#pragma once

#include "model/layers.h"

namespace graft {

class LmHead {
 public:
  // tied: project with token_embedding (embed.tokens.weight); otherwise own
  // lm_head.weight [V, D].
  LmHead(ParamInit& init, const ModelConfig& config, const Tensor& token_embedding);
  // Under tensor parallelism: this rank's vocabulary slice of the logits,
  // [B, T, V/tp] (model/tensor_parallel.h).
  Tensor operator()(const Tensor& hidden) const;

 private:
  Tensor weight_;
  TensorParallel tp_;
};

class MlmHead {
 public:
  MlmHead(ParamInit& init, const ModelConfig& config, const Tensor& token_embedding);
  Tensor operator()(const Tensor& hidden) const;

 private:
  Linear transform_;
  Norm norm_;
  Tensor decoder_, bias_;
  TensorParallel tp_;  // logits sharded by vocabulary like LmHead's
};

class RtdHead {
 public:
  RtdHead(ParamInit& init, const ModelConfig& config);
  Tensor operator()(const Tensor& hidden) const;  // [B, T]

 private:
  Linear dense_, out_;
};

class Classifier {
 public:
  Classifier(ParamInit& init, const ModelConfig& config);
  // mask: i32 [B, T] for mean pooling over real tokens, or undefined.
  Tensor operator()(const Tensor& hidden, const Tensor& mask) const;  // [B, C]

 private:
  Pooling pooling_;
  Linear out_;
};

}  // namespace graft
