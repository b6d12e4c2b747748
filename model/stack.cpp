#include "model/stack.h"

#include <numeric>

#include "ops/elementwise.h"
#include "ops/embedding.h"

namespace graft {

namespace {

Tensor learned_positions(ParamInit& init, const std::string& name, const ModelConfig& config) {
  if (config.positions != PositionKind::learned) return Tensor();
  return init.normal(name + ".positions.weight", {config.max_positions, config.d_model});
}

std::vector<Block> make_layers(ParamInit& init, const std::string& name, const ModelConfig& config,
                               int64_t layers, bool causal, bool cross) {
  std::vector<Block> out;
  out.reserve(static_cast<size_t>(layers));
  for (int64_t i = 0; i < layers; ++i) {
    out.emplace_back(init, name + ".layers." + std::to_string(i), config, causal, cross);
  }
  return out;
}

}  // namespace

Stack::Stack(ParamInit& init, const std::string& name, const ModelConfig& config, int64_t layers,
             bool causal, bool cross)
    : name_(name),
      max_positions_(config.max_positions),
      dropout_(config.dropout),
      cross_(cross),
      positions_(learned_positions(init, name, config)),
      layers_(make_layers(init, name, config, layers, causal, cross)),
      final_norm_(init, name + ".final_norm", config) {}

Tensor Stack::operator()(ForwardContext& context, const Tensor& tokens, const Tensor& mask,
                         const Tensor& memory, const Tensor& memory_mask) const {
  GRAFT_CHECK(tokens.ndim() == 3,
              name_ << ": embedded tokens must be [B, T, D], got " << tokens.describe());
  const int64_t len = tokens.dim(1);
  GRAFT_INPUT_CHECK(len <= max_positions_, name_ << ": sequence length " << len
                                                 << " exceeds max_positions = " << max_positions_);
  GRAFT_CHECK(!cross_ || memory.defined(),
              name_ << " has cross-attention and needs the encoder's output (memory)");
  Tensor x = tokens;
  if (positions_.defined()) {
    std::vector<int32_t> ids(static_cast<size_t>(len));
    std::iota(ids.begin(), ids.end(), 0);
    Tensor position_ids = Tensor::from_vector(ids, {len});
    if (positions_.device() != Device::cpu) position_ids = position_ids.to(positions_.device());
    x = add(x, embedding(position_ids, positions_));
  }
  x = apply_dropout(context, x, dropout_);
  for (const Block& layer : layers_) {
    x = layer(context, x, mask, cross_ ? memory : Tensor(), cross_ ? memory_mask : Tensor());
  }
  return final_norm_(x);
}

}  // namespace graft
