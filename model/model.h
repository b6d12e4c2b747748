// The three model kinds, all built from one block family (model/layers.h) and
// one naming scheme (model/README.md), so weights move between them by name.
//
//   Encoder          bidirectional stack "encoder"
//   Decoder          causal stack "decoder", optionally with cross-attention
//                    to an external memory
//   EncoderDecoder   T5-style: "encoder" + causal "decoder" with
//                    cross-attention; one shared token embedding
// Every kind owns embed.tokens.weight and the heads its config lists. A model
// is built in f32 for training or f64 for gradient checks.
#pragma once

#include <cstdint>
#include <memory>

#include "model/config.h"
#include "model/context.h"
#include "model/heads.h"
#include "model/parameters.h"
#include "model/stack.h"
#include "model/tensor_parallel.h"

namespace graft {

class Model {
 public:
  virtual ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelConfig& config() const { return config_; }
  Parameters& parameters() { return params_; }
  const Parameters& parameters() const { return params_; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  // Moves every parameter to device and stores it as dtype, in place (the
  // layers hold handles to the same tensors). Mixed precision on the GPU is
  // place(Device::cuda, DType::bf16): bf16 weights, activations and gradients,
  // with f32 master weights in the optimizer (train/optimizer.h). Call it
  // before the optimizer is built.
  void place(Device device, DType dtype);
  // Default: off (size 1). With tp.size > 1 the parameters are this rank's
  // shards and lm/mlm logits this rank's vocabulary slice: use
  // vocab_cross_entropy(model.tensor_parallel(), ...) for their loss.
  const TensorParallel& tensor_parallel() const { return tp_; }

  // ids: i32 [B, T]; mask: i32 [B, T] (1 real, 0 padding) or undefined.
  // encode: the encoder's hidden states [B, T, D] (Error without an encoder).
  Tensor encode(ForwardContext& context, const Tensor& ids, const Tensor& mask = Tensor()) const;
  // decode: the decoder's hidden states; memory [B, Tm, D] and memory_mask
  // [B, Tm] are what cross-attention attends to (required with it, refused
  // without it).
  Tensor decode(ForwardContext& context, const Tensor& ids, const Tensor& mask = Tensor(),
                const Tensor& memory = Tensor(), const Tensor& memory_mask = Tensor()) const;

  // Heads on hidden states [B, T, D] (Error naming the head when the config
  // has none): [B, T, V], [B, T, V], [B, T], and [B, C] (mask used by mean
  // pooling).
  Tensor lm_logits(const Tensor& hidden) const;
  Tensor mlm_logits(const Tensor& hidden) const;
  Tensor rtd_logits(const Tensor& hidden) const;
  Tensor classify(const Tensor& hidden, const Tensor& mask = Tensor()) const;

 protected:
  // Validates config and creates every parameter, initialised from seed
  // (this rank's shards under tensor parallelism).
  Model(const ModelConfig& config, uint64_t seed, DType dtype, const TensorParallel& tp = {});

 private:
  Tensor embed(const Tensor& ids, const char* what) const;

  ModelConfig config_;
  DType dtype_;
  Device device_ = Device::cpu;
  TensorParallel tp_;
  Parameters params_;
  Tensor tokens_;  // embed.tokens.weight
  std::unique_ptr<Stack> encoder_, decoder_;
  std::unique_ptr<LmHead> lm_head_;
  std::unique_ptr<MlmHead> mlm_head_;
  std::unique_ptr<RtdHead> rtd_head_;
  std::unique_ptr<Classifier> classifier_;
};

class Encoder : public Model {
 public:
  explicit Encoder(const ModelConfig& config, uint64_t seed = 0, DType dtype = DType::f32,
                   const TensorParallel& tp = {});
  Tensor forward(ForwardContext& context, const Tensor& ids, const Tensor& mask = Tensor()) const {
    return encode(context, ids, mask);
  }
};

class Decoder : public Model {
 public:
  explicit Decoder(const ModelConfig& config, uint64_t seed = 0, DType dtype = DType::f32,
                   const TensorParallel& tp = {});
  Tensor forward(ForwardContext& context, const Tensor& ids, const Tensor& mask = Tensor(),
                 const Tensor& memory = Tensor(), const Tensor& memory_mask = Tensor()) const {
    return decode(context, ids, mask, memory, memory_mask);
  }
};

class EncoderDecoder : public Model {
 public:
  explicit EncoderDecoder(const ModelConfig& config, uint64_t seed = 0, DType dtype = DType::f32,
                          const TensorParallel& tp = {});
  // The decoder's hidden states [B, Td, D] for source ids [B, Te] and target
  // (decoder input) ids [B, Td]; the encoder mask also masks cross-attention.
  Tensor forward(ForwardContext& context, const Tensor& encoder_ids, const Tensor& encoder_mask,
                 const Tensor& decoder_ids, const Tensor& decoder_mask = Tensor()) const;
};

// The kind config.kind names; tp: this rank's place in the tensor-parallel
// group (model/tensor_parallel.h), off by default.
std::unique_ptr<Model> make_model(const ModelConfig& config, uint64_t seed = 0,
                                  DType dtype = DType::f32, const TensorParallel& tp = {});

// A model of the same config that shares model's weights (the same storage:
// an optimizer step on model is the replica's too) and keeps its own
// gradients, for a thread that trains its own rows of a batch (the Trainer's
// row shards). CPU only; an InputError when model has parameters its config
// does not create (a task's own weights, such as RTD's generator).
std::unique_ptr<Model> make_weight_sharing_replica(const Model& model);
// Points each of replica's parameters at model's data again where it no
// longer does (a parameter's data replaced in place since, by a checkpoint
// load or Tensor::convert_to) and copies model's trainable flags (freezing).
// The same InputError as above when the two do not have the same names.
void share_weights(Model& replica, const Model& model);

}  // namespace graft
