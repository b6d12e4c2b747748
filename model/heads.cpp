#include "model/heads.h"

#include "ops/sequence_pool.h"

namespace graft {

LmHead::LmHead(ParamInit& init, const ModelConfig& config, const Tensor& token_embedding)
    : weight_(config.tie_embeddings
                  ? token_embedding
                  : init.normal("lm_head.weight", {config.vocab_size, config.d_model})),
      tp_(init.tensor_parallel()) {}

Tensor LmHead::operator()(const Tensor& hidden) const {
  return linear(tp_copy(tp_, hidden), weight_);
}

MlmHead::MlmHead(ParamInit& init, const ModelConfig& config, const Tensor& token_embedding)
    : transform_(init, "mlm_head.transform", config.d_model, config.d_model),
      norm_(init, "mlm_head.norm", config),
      decoder_(token_embedding),
      bias_(init.zeros("mlm_head.bias", {config.vocab_size})),
      tp_(init.tensor_parallel()) {}

Tensor MlmHead::operator()(const Tensor& hidden) const {
  return linear(tp_copy(tp_, norm_(transform_(hidden, Epilogue::gelu))), decoder_, bias_);
}

RtdHead::RtdHead(ParamInit& init, const ModelConfig& config)
    : dense_(init, "rtd_head.dense", config.d_model, config.d_model),
      out_(init, "rtd_head.out", config.d_model, 1) {}

Tensor RtdHead::operator()(const Tensor& hidden) const {
  Tensor logits = out_(dense_(hidden, Epilogue::gelu));
  Shape shape(hidden.shape().begin(), hidden.shape().end() - 1);
  return logits.reshape(shape);
}

Classifier::Classifier(ParamInit& init, const ModelConfig& config)
    : pooling_(config.pooling), out_(init, "classifier.out", config.d_model, config.num_classes) {}

Tensor Classifier::operator()(const Tensor& hidden, const Tensor& mask) const {
  const PoolMode mode = pooling_ == Pooling::mean ? PoolMode::mean : PoolMode::first_token;
  return out_(sequence_pool(hidden, mode, mode == PoolMode::mean ? mask : Tensor()));
}

}  // namespace graft
