// Stack: an encoder or decoder — positions, a run of Blocks and a final norm —
// under one name ("encoder" or "decoder"). The token embedding is not part of
// a stack: the model owns it, so that both stacks of an encoder-decoder share
// embed.tokens.weight.
#pragma once

#include <string>
#include <vector>

#include "model/layers.h"

namespace graft {

class Stack {
 public:
  // name: "encoder" (bidirectional) or "decoder" (causal); cross: whether each
  // layer has cross-attention.
  Stack(ParamInit& init, const std::string& name, const ModelConfig& config, int64_t layers,
        bool causal, bool cross);

  // tokens: embedded tokens [B, T, D]; mask: i32 [B, T] (1 real, 0 pad) or
  // undefined; memory/memory_mask: the encoder's output and mask for
  // cross-attention. Returns the final-normed hidden states [B, T, D].
  Tensor operator()(ForwardContext& context, const Tensor& tokens, const Tensor& mask,
                    const Tensor& memory, const Tensor& memory_mask) const;

  const std::string& name() const { return name_; }
  size_t num_layers() const { return layers_.size(); }
  bool has_cross_attention() const { return cross_; }

 private:
  std::string name_;
  int64_t max_positions_;
  double dropout_;
  bool cross_;
  Tensor positions_;  // [max_positions, D]; undefined with rotary positions
  std::vector<Block> layers_;
  Norm final_norm_;
};

}  // namespace graft
