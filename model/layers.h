// The one block family every model kind is built from: pre-norm transformer
// blocks of self-attention, optional cross-attention and a GELU MLP.
//
// Attention and Mlp are their own classes with their weights in torch's
// [out, in] layout so that tensor parallelism can later shard them
// Megatron-style (q/k/v and mlp.up by output rows = heads / columns, o and
// mlp.down by input columns) without touching the block.
#pragma once

#include <memory>
#include <string>

#include "model/config.h"
#include "model/context.h"
#include "model/init.h"
#include "ops/matmul.h"

namespace graft {

// How a Linear runs under tensor parallelism (model/tensor_parallel.h); all
// three are the plain linear when tp is off. column: this rank's output rows
// (its input must come through tp_copy); row: this rank's input columns, the
// partial sums all-reduced, then the replicated bias added once.
enum class TpSplit { none, column, row };

// torch.nn.Linear: <prefix>.weight [out, in], <prefix>.bias [out].
class Linear {
 public:
  Linear(ParamInit& init, const std::string& prefix, int64_t in, int64_t out, bool bias = true,
         TpSplit split = TpSplit::none);
  Tensor operator()(const Tensor& x, Epilogue epilogue = Epilogue::none) const;
  const Tensor& weight() const { return weight_; }

 private:
  Tensor weight_, bias_;
  TpSplit split_;
  TensorParallel tp_;
};

// LayerNorm (<prefix>.weight, <prefix>.bias) or RMSNorm (<prefix>.weight only).
class Norm {
 public:
  Norm(ParamInit& init, const std::string& prefix, const ModelConfig& config);
  Tensor operator()(const Tensor& x) const;

 private:
  NormKind kind_;
  double eps_;
  Tensor weight_, bias_;
};

// Multi-head attention with <prefix>.{q,k,v,o}. Self-attention applies rotary
// positions to q and k when the config asks for them; cross-attention never
// does (encoder and decoder positions are unrelated).
class Attention {
 public:
  Attention(ParamInit& init, const std::string& prefix, const ModelConfig& config, bool causal,
            bool cross);
  // x [B, Tq, D]; memory [B, Tk, D] for cross-attention (undefined for self);
  // key_mask i32 [B, Tk] (1 real, 0 padding) or undefined.
  Tensor operator()(const Tensor& x, const Tensor& memory, const Tensor& key_mask) const;

 private:
  int64_t num_heads_;  // this tp rank's heads
  TensorParallel tp_;
  bool causal_, cross_, rotary_;
  double rotary_base_;
  Linear q_, k_, v_, o_;
};

// <prefix>.up [d_ff, D] with fused GELU, <prefix>.down [D, d_ff].
class Mlp {
 public:
  Mlp(ParamInit& init, const std::string& prefix, const ModelConfig& config);
  Tensor operator()(const Tensor& x) const;

 private:
  TensorParallel tp_;
  Linear up_, down_;
};

// <prefix>.{attn_norm, attn, [cross_attn_norm, cross_attn,] mlp_norm, mlp}:
//   h = x + drop(attn(norm(x)));  h += drop(cross_attn(norm(h), memory));
//   out = h + drop(mlp(norm(h))).
class Block {
 public:
  Block(ParamInit& init, const std::string& prefix, const ModelConfig& config, bool causal,
        bool cross);
  Tensor operator()(ForwardContext& context, const Tensor& x, const Tensor& mask,
                    const Tensor& memory, const Tensor& memory_mask) const;
  bool has_cross_attention() const { return cross_attn_ != nullptr; }

 private:
  double dropout_;
  Norm attn_norm_;
  Attention attn_;
  std::unique_ptr<Norm> cross_attn_norm_;
  std::unique_ptr<Attention> cross_attn_;
  Norm mlp_norm_;
  Mlp mlp_;
};

}  // namespace graft
