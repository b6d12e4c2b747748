#include "model/layers.h"

#include "ops/attention.h"
#include "ops/elementwise.h"
#include "ops/layer_norm.h"
#include "ops/rms_norm.h"
#include "ops/rotary.h"

namespace graft {

Linear::Linear(ParamInit& init, const std::string& prefix, int64_t in, int64_t out, bool bias,
               TpSplit split)
    : weight_(init.normal(prefix + ".weight", {out, in})),
      bias_(bias ? init.zeros(prefix + ".bias", {out}) : Tensor()),
      split_(split),
      tp_(init.tensor_parallel()) {}

Tensor Linear::operator()(const Tensor& x, Epilogue epilogue) const {
  if (split_ != TpSplit::row || !tp_.enabled()) return linear(x, weight_, bias_, epilogue);
  GRAFT_CHECK(epilogue == Epilogue::none, "a row-parallel linear takes no epilogue");
  Tensor y = tp_reduce(tp_, linear(x, weight_));
  return bias_.defined() ? add(y, bias_) : y;
}

Norm::Norm(ParamInit& init, const std::string& prefix, const ModelConfig& config)
    : kind_(config.norm),
      eps_(config.norm_eps),
      weight_(init.ones(prefix + ".weight", {config.d_model})),
      bias_(config.norm == NormKind::layer ? init.zeros(prefix + ".bias", {config.d_model})
                                           : Tensor()) {}

Tensor Norm::operator()(const Tensor& x) const {
  return kind_ == NormKind::layer ? layer_norm(x, weight_, bias_, eps_)
                                  : rms_norm(x, weight_, eps_);
}

Attention::Attention(ParamInit& init, const std::string& prefix, const ModelConfig& config,
                     bool causal, bool cross)
    : num_heads_(config.num_heads / init.tensor_parallel().size),
      tp_(init.tensor_parallel()),
      causal_(causal),
      cross_(cross),
      rotary_(!cross && config.positions == PositionKind::rotary),
      rotary_base_(config.rotary_base),
      q_(init, prefix + ".q", config.d_model, config.d_model, true, TpSplit::column),
      k_(init, prefix + ".k", config.d_model, config.d_model, true, TpSplit::column),
      v_(init, prefix + ".v", config.d_model, config.d_model, true, TpSplit::column),
      o_(init, prefix + ".o", config.d_model, config.d_model, true, TpSplit::row) {}

Tensor Attention::operator()(const Tensor& x, const Tensor& memory, const Tensor& key_mask) const {
  GRAFT_CHECK(cross_ == memory.defined(),
              (cross_ ? "cross-attention needs the encoder's output (memory)"
                      : "self-attention takes no memory"));
  // One tp_copy per input: its backward all-reduces the heads' partial dx.
  const Tensor xs = tp_copy(tp_, x);
  const Tensor source = cross_ ? tp_copy(tp_, memory) : xs;
  Tensor q = q_(xs), k = k_(source), v = v_(source);
  if (rotary_) {
    q = rotary_embedding(q, num_heads_, 0, rotary_base_);
    k = rotary_embedding(k, num_heads_, 0, rotary_base_);
  }
  AttentionOptions options;
  options.num_heads = num_heads_;
  options.causal = causal_;
  options.key_padding_mask = key_mask;
  return o_(scaled_dot_product_attention(q, k, v, options));
}

Mlp::Mlp(ParamInit& init, const std::string& prefix, const ModelConfig& config)
    : tp_(init.tensor_parallel()),
      up_(init, prefix + ".up", config.d_model, config.d_ff, true, TpSplit::column),
      down_(init, prefix + ".down", config.d_ff, config.d_model, true, TpSplit::row) {}

Tensor Mlp::operator()(const Tensor& x) const {
  return down_(up_(tp_copy(tp_, x), Epilogue::gelu));
}

Block::Block(ParamInit& init, const std::string& prefix, const ModelConfig& config, bool causal,
             bool cross)
    : dropout_(config.dropout),
      attn_norm_(init, prefix + ".attn_norm", config),
      attn_(init, prefix + ".attn", config, causal, false),
      cross_attn_norm_(cross ? std::make_unique<Norm>(init, prefix + ".cross_attn_norm", config)
                             : nullptr),
      cross_attn_(
          cross ? std::make_unique<Attention>(init, prefix + ".cross_attn", config, false, true)
                : nullptr),
      mlp_norm_(init, prefix + ".mlp_norm", config),
      mlp_(init, prefix + ".mlp", config) {}

Tensor Block::operator()(ForwardContext& context, const Tensor& x, const Tensor& mask,
                         const Tensor& memory, const Tensor& memory_mask) const {
  Tensor h = add(x, apply_dropout(context, attn_(attn_norm_(x), Tensor(), mask), dropout_));
  if (cross_attn_) {
    h = add(h, apply_dropout(context, (*cross_attn_)((*cross_attn_norm_)(h), memory, memory_mask),
                             dropout_));
  }
  return add(h, apply_dropout(context, mlp_(mlp_norm_(h)), dropout_));
}

}  // namespace graft
