#include "model/model.h"

#include "dist/tp_ops.h"
#include "model/init.h"
#include "ops/embedding.h"

namespace graft {

Model::~Model() = default;

Model::Model(const ModelConfig& config, uint64_t seed, DType dtype, const TensorParallel& tp)
    : config_(config), dtype_(dtype), tp_(tp) {
  config_.validate();
  check_tensor_parallel(config_, tp_);
  GRAFT_CHECK(
      dtype == DType::f32 || dtype == DType::f64,
      "models are built in f32 (training) or f64 (gradient checks), not " << dtype_name(dtype));
  ParamInit init(params_, seed, dtype, config_.init_std);
  init.set_tensor_parallel(tp_);
  if (config_.share_encoder_decoder) {
    // The encoder is registered first, so every decoder name but
    // cross-attention's finds its encoder tensor to alias.
    init.set_binding([](const std::string& name) -> std::string {
      const std::string decoder = "decoder.";
      if (name.rfind(decoder, 0) != 0 || name.find(".cross_attn") != std::string::npos) return {};
      return "encoder." + name.substr(decoder.size());
    });
  }
  // Registration order is the naming scheme's order: embedding, encoder,
  // decoder, heads.
  tokens_ = init.normal("embed.tokens.weight", {config_.vocab_size, config_.d_model});
  if (config_.has_encoder()) {
    encoder_ = std::make_unique<Stack>(init, "encoder", config_, config_.encoder_layers,
                                       /*causal=*/false, /*cross=*/false);
  }
  if (config_.has_decoder()) {
    decoder_ = std::make_unique<Stack>(init, "decoder", config_, config_.decoder_layers,
                                       /*causal=*/true, config_.decoder_cross_attention());
  }
  if (config_.lm_head) lm_head_ = std::make_unique<LmHead>(init, config_, tokens_);
  if (config_.mlm_head) mlm_head_ = std::make_unique<MlmHead>(init, config_, tokens_);
  if (config_.rtd_head) rtd_head_ = std::make_unique<RtdHead>(init, config_);
  if (config_.has_classifier()) classifier_ = std::make_unique<Classifier>(init, config_);
}

Tensor Model::embed(const Tensor& ids, const char* what) const {
  GRAFT_CHECK(ids.defined() && ids.dtype() == DType::i32 && ids.ndim() == 2,
              what << " ids must be i32 [B, T], got " << (ids.defined() ? ids.describe() : "none"));
  if (tp_.enabled()) {
    return dist::vocab_parallel_embedding(ids, tokens_, tp_.slice_begin(config_.vocab_size),
                                          config_.vocab_size, *tp_.comm);
  }
  return embedding(ids, tokens_);
}

Tensor Model::encode(ForwardContext& context, const Tensor& ids, const Tensor& mask) const {
  GRAFT_CHECK(encoder_, "a " << kind_name(config_.kind) << " model has no encoder");
  return (*encoder_)(context, embed(ids, "encoder"), mask, Tensor(), Tensor());
}

Tensor Model::decode(ForwardContext& context, const Tensor& ids, const Tensor& mask,
                     const Tensor& memory, const Tensor& memory_mask) const {
  GRAFT_CHECK(decoder_, "a " << kind_name(config_.kind) << " model has no decoder");
  GRAFT_CHECK(decoder_->has_cross_attention() || !memory.defined(),
              "this decoder has no cross-attention, so it takes no memory");
  return (*decoder_)(context, embed(ids, "decoder"), mask, memory, memory_mask);
}

Tensor Model::lm_logits(const Tensor& hidden) const {
  GRAFT_CHECK(lm_head_, "this model has no lm head (config heads)");
  return (*lm_head_)(hidden);
}

Tensor Model::mlm_logits(const Tensor& hidden) const {
  GRAFT_CHECK(mlm_head_, "this model has no mlm head (config heads)");
  return (*mlm_head_)(hidden);
}

Tensor Model::rtd_logits(const Tensor& hidden) const {
  GRAFT_CHECK(rtd_head_, "this model has no rtd head (config heads)");
  return (*rtd_head_)(hidden);
}

Tensor Model::classify(const Tensor& hidden, const Tensor& mask) const {
  GRAFT_CHECK(classifier_, "this model has no classifier (config num_classes)");
  return (*classifier_)(hidden, mask);
}

namespace {

const ModelConfig& expect_kind(const ModelConfig& config, ModelKind kind) {
  GRAFT_INPUT_CHECK(config.kind == kind, "a " << kind_name(kind)
                                              << " model needs kind = " << kind_name(kind)
                                              << ", got " << kind_name(config.kind));
  return config;
}

}  // namespace

void Model::place(Device device, DType dtype) {
  GRAFT_INPUT_CHECK(device == Device::cuda || dtype != DType::bf16,
                    "bf16 models run on the GPU only (the CPU kernels take f32 or f64)");
  GRAFT_INPUT_CHECK(device == Device::cpu || dtype != DType::f64,
                    "the GPU kernels take f32 or bf16, not f64");
  for (const NamedParameter& p : params_.entries()) {
    p.tensor.move_to(device);
    p.tensor.convert_to(dtype);
  }
  device_ = device;
  dtype_ = dtype;
}

Encoder::Encoder(const ModelConfig& config, uint64_t seed, DType dtype, const TensorParallel& tp)
    : Model(expect_kind(config, ModelKind::encoder), seed, dtype, tp) {}

Decoder::Decoder(const ModelConfig& config, uint64_t seed, DType dtype, const TensorParallel& tp)
    : Model(expect_kind(config, ModelKind::decoder), seed, dtype, tp) {}

EncoderDecoder::EncoderDecoder(const ModelConfig& config, uint64_t seed, DType dtype,
                               const TensorParallel& tp)
    : Model(expect_kind(config, ModelKind::encoder_decoder), seed, dtype, tp) {}

Tensor EncoderDecoder::forward(ForwardContext& context, const Tensor& encoder_ids,
                               const Tensor& encoder_mask, const Tensor& decoder_ids,
                               const Tensor& decoder_mask) const {
  Tensor memory = encode(context, encoder_ids, encoder_mask);
  return decode(context, decoder_ids, decoder_mask, memory, encoder_mask);
}

std::unique_ptr<Model> make_model(const ModelConfig& config, uint64_t seed, DType dtype,
                                  const TensorParallel& tp) {
  switch (config.kind) {
    case ModelKind::encoder:
      return std::make_unique<Encoder>(config, seed, dtype, tp);
    case ModelKind::decoder:
      return std::make_unique<Decoder>(config, seed, dtype, tp);
    case ModelKind::encoder_decoder:
      return std::make_unique<EncoderDecoder>(config, seed, dtype, tp);
  }
  GRAFT_CHECK(false, "unknown model kind");
  return nullptr;
}

std::unique_ptr<Model> make_weight_sharing_replica(const Model& model) {
  GRAFT_INPUT_CHECK(model.device() == Device::cpu,
                    "row shards run on the CPU; this model is on " << device_name(model.device()));
  // The seed does not matter: every weight is replaced by the model's own.
  std::unique_ptr<Model> replica =
      make_model(model.config(), /*seed=*/0, model.dtype(), model.tensor_parallel());
  share_weights(*replica, model);
  return replica;
}

void share_weights(Model& replica, const Model& model) {
  const std::vector<NamedParameter>& source = model.parameters().entries();
  const std::vector<NamedParameter>& target = replica.parameters().entries();
  for (size_t i = 0; i < source.size(); ++i) {
    GRAFT_INPUT_CHECK(i < target.size() && source[i].name == target[i].name,
                      "row shards: parameter '"
                          << source[i].name
                          << "' is not one the model's config creates (a task's own weights, "
                             "such as a generator); train this task with row_shards = 1");
    Tensor t = target[i].tensor;
    if (!t.same_storage(source[i].tensor)) t.share_data_of(source[i].tensor);
    t.set_requires_grad(source[i].tensor.requires_grad());
  }
  GRAFT_CHECK(target.size() == source.size(), "row shards: the replica has "
                                                  << target.size() << " parameters, the model "
                                                  << source.size());
}

}  // namespace graft
