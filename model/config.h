// ModelConfig: everything that fixes a model's architecture and parameter
// names, plus the presets tiny/small/base/large of the scales of docs/ARCHITECTURE.md.
//
// The TOML reader lives in model/config_toml.h so that code that only builds
// models does not pull in toml++.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ops/check.h"

namespace graft {

enum class ModelKind { encoder, decoder, encoder_decoder };
enum class PositionKind { learned, rotary };
enum class NormKind { layer, rms };
enum class Pooling { first_token, mean };

struct ModelConfig {
  ModelKind kind = ModelKind::decoder;
  int64_t vocab_size = 4096;
  int64_t d_model = 64;
  int64_t num_heads = 4;
  int64_t d_ff = 256;
  int64_t encoder_layers = 0;  // must be 0 for a decoder
  int64_t decoder_layers = 2;  // must be 0 for an encoder
  int64_t max_positions = 64;  // longest sequence a stack accepts (either kind of positions)
  PositionKind positions = PositionKind::learned;
  double rotary_base = 10000.0;
  NormKind norm = NormKind::layer;
  double norm_eps = 1e-5;
  double dropout = 0.0;  // after embeddings, attention outputs and MLP outputs
  // Output projection of the LM head shares embed.tokens.weight.
  bool tie_embeddings = true;
  // Cross-attention in a decoder-only model (attending to an external memory);
  // an encoder-decoder always has it and an encoder never.
  bool cross_attention = false;
  double init_std = 0.02;
  // BERTShare (Rothe et al. 2020): an encoder-decoder whose decoder uses the
  // encoder's tensors — decoder.X is an alias of encoder.X for positions,
  // self-attention, MLP and norms; only cross-attention is the decoder's own.
  // Needs encoder_layers == decoder_layers.
  bool share_encoder_decoder = false;

  // Heads built on top of the stacks.
  bool lm_head = true;
  bool mlm_head = false;
  bool rtd_head = false;
  int64_t num_classes = 0;  // > 0 builds the sequence classifier
  Pooling pooling = Pooling::first_token;

  bool has_encoder() const { return kind != ModelKind::decoder; }
  bool has_decoder() const { return kind != ModelKind::encoder; }
  bool decoder_cross_attention() const {
    return kind == ModelKind::encoder_decoder || (kind == ModelKind::decoder && cross_attention);
  }
  bool has_classifier() const { return num_classes > 0; }
  int64_t head_dim() const { return d_model / num_heads; }

  // Throws InputError naming the offending field, e.g. "num_heads = 3 does not
  // divide d_model = 64".
  void validate() const;
};

// Preset for kind at scale "tiny" | "small" | "base" | "large" (InputError
// otherwise). Heads default to lm for decoder and encoder-decoder, mlm for an
// encoder.
ModelConfig model_preset(ModelKind kind, std::string_view scale);

const char* kind_name(ModelKind kind);
const char* position_name(PositionKind positions);
const char* norm_name(NormKind norm);
const char* pooling_name(Pooling pooling);
// Inverse of the above; key names the config key in the InputError.
ModelKind parse_model_kind(std::string_view text, std::string_view key = "kind");
PositionKind parse_position_kind(std::string_view text, std::string_view key = "positions");
NormKind parse_norm_kind(std::string_view text, std::string_view key = "norm");
Pooling parse_pooling(std::string_view text, std::string_view key = "pooling");

// "decoder d=64 h=4 ff=256 L=0+2 V=4096 learned layer" for logs.
std::string describe(const ModelConfig& config);

}  // namespace graft
