#include "model/config.h"

#include <sstream>

#include "ops/check.h"

namespace graft {

namespace {

struct Scale {
  int64_t vocab, d_model, heads, d_ff, layers, enc_dec_layers, positions;
  double dropout;
};

// the scales of docs/ARCHITECTURE.md. base is BERT/T5-small class (~55-61M parameters with
// embeddings), large ~340-390M.
Scale scale_for(std::string_view scale) {
  if (scale == "tiny") return {4096, 64, 4, 256, 2, 2, 64, 0.0};
  if (scale == "small") return {8192, 256, 4, 1024, 4, 4, 128, 0.1};
  if (scale == "base") return {32768, 512, 8, 2048, 12, 6, 512, 0.1};
  if (scale == "large") return {32768, 1024, 16, 4096, 24, 12, 1024, 0.1};
  GRAFT_INPUT_CHECK(false,
                    "unknown model preset '" << scale << "' (expected tiny, small, base or large)");
  return {};
}

}  // namespace

ModelConfig model_preset(ModelKind kind, std::string_view scale) {
  const Scale s = scale_for(scale);
  ModelConfig c;
  c.kind = kind;
  c.vocab_size = s.vocab;
  c.d_model = s.d_model;
  c.num_heads = s.heads;
  c.d_ff = s.d_ff;
  c.max_positions = s.positions;
  c.dropout = s.dropout;
  c.encoder_layers = 0;
  c.decoder_layers = 0;
  switch (kind) {
    case ModelKind::encoder:
      c.encoder_layers = s.layers;
      c.lm_head = false;
      c.mlm_head = true;
      break;
    case ModelKind::decoder:
      c.decoder_layers = s.layers;
      break;
    case ModelKind::encoder_decoder:
      c.encoder_layers = s.enc_dec_layers;
      c.decoder_layers = s.enc_dec_layers;
      break;
  }
  return c;
}

void ModelConfig::validate() const {
  GRAFT_INPUT_CHECK(vocab_size > 0, "vocab_size must be positive, got " << vocab_size);
  GRAFT_INPUT_CHECK(d_model > 0, "d_model must be positive, got " << d_model);
  GRAFT_INPUT_CHECK(num_heads > 0, "num_heads must be positive, got " << num_heads);
  GRAFT_INPUT_CHECK(d_model % num_heads == 0,
                    "num_heads = " << num_heads << " does not divide d_model = " << d_model);
  GRAFT_INPUT_CHECK(
      positions != PositionKind::rotary || head_dim() % 2 == 0,
      "positions = rotary needs an even head dimension, but d_model / num_heads = " << head_dim());
  GRAFT_INPUT_CHECK(rotary_base > 0, "rotary_base must be positive, got " << rotary_base);
  GRAFT_INPUT_CHECK(d_ff > 0, "d_ff must be positive, got " << d_ff);
  GRAFT_INPUT_CHECK(max_positions > 0, "max_positions must be positive, got " << max_positions);
  GRAFT_INPUT_CHECK(encoder_layers >= 0 && decoder_layers >= 0,
                    "layer counts must not be negative");
  if (has_encoder()) {
    GRAFT_INPUT_CHECK(encoder_layers > 0,
                      "encoder_layers must be positive for kind = " << kind_name(kind));
  } else {
    GRAFT_INPUT_CHECK(encoder_layers == 0, "encoder_layers = " << encoder_layers
                                                               << " but kind = decoder has no "
                                                                  "encoder");
  }
  if (has_decoder()) {
    GRAFT_INPUT_CHECK(decoder_layers > 0,
                      "decoder_layers must be positive for kind = " << kind_name(kind));
  } else {
    GRAFT_INPUT_CHECK(decoder_layers == 0, "decoder_layers = " << decoder_layers
                                                               << " but kind = encoder has no "
                                                                  "decoder");
  }
  GRAFT_INPUT_CHECK(kind != ModelKind::encoder || !cross_attention,
                    "cross_attention = true but kind = encoder has no decoder");
  GRAFT_INPUT_CHECK(
      !share_encoder_decoder || kind == ModelKind::encoder_decoder,
      "share_encoder_decoder = true needs kind = encoder_decoder, got " << kind_name(kind));
  GRAFT_INPUT_CHECK(!share_encoder_decoder || encoder_layers == decoder_layers,
                    "share_encoder_decoder = true needs encoder_layers = decoder_layers, got "
                    "encoder_layers = "
                        << encoder_layers << " and decoder_layers = " << decoder_layers);
  GRAFT_INPUT_CHECK(norm_eps > 0, "norm_eps must be positive, got " << norm_eps);
  GRAFT_INPUT_CHECK(dropout >= 0 && dropout < 1, "dropout must be in [0, 1), got " << dropout);
  GRAFT_INPUT_CHECK(init_std > 0, "init_std must be positive, got " << init_std);
  GRAFT_INPUT_CHECK(num_classes >= 0, "num_classes must not be negative, got " << num_classes);
}

const char* kind_name(ModelKind kind) {
  switch (kind) {
    case ModelKind::encoder:
      return "encoder";
    case ModelKind::decoder:
      return "decoder";
    case ModelKind::encoder_decoder:
      return "encoder_decoder";
  }
  return "?";
}

const char* position_name(PositionKind positions) {
  return positions == PositionKind::learned ? "learned" : "rotary";
}
const char* norm_name(NormKind norm) {
  return norm == NormKind::layer ? "layer" : "rms";
}
const char* pooling_name(Pooling pooling) {
  return pooling == Pooling::first_token ? "first_token" : "mean";
}

ModelKind parse_model_kind(std::string_view text, std::string_view key) {
  for (ModelKind k : {ModelKind::encoder, ModelKind::decoder, ModelKind::encoder_decoder}) {
    if (text == kind_name(k)) return k;
  }
  GRAFT_INPUT_CHECK(false, key << " = '" << text
                               << "' is not a model kind (expected encoder, decoder or "
                                  "encoder_decoder)");
  return ModelKind::decoder;
}

PositionKind parse_position_kind(std::string_view text, std::string_view key) {
  if (text == "learned") return PositionKind::learned;
  if (text == "rotary") return PositionKind::rotary;
  GRAFT_INPUT_CHECK(false, key << " = '" << text << "' (expected learned or rotary)");
  return PositionKind::learned;
}

NormKind parse_norm_kind(std::string_view text, std::string_view key) {
  if (text == "layer") return NormKind::layer;
  if (text == "rms") return NormKind::rms;
  GRAFT_INPUT_CHECK(false, key << " = '" << text << "' (expected layer or rms)");
  return NormKind::layer;
}

Pooling parse_pooling(std::string_view text, std::string_view key) {
  if (text == "first_token") return Pooling::first_token;
  if (text == "mean") return Pooling::mean;
  GRAFT_INPUT_CHECK(false, key << " = '" << text << "' (expected first_token or mean)");
  return Pooling::first_token;
}

std::string describe(const ModelConfig& c) {
  std::ostringstream out;
  out << kind_name(c.kind) << " d=" << c.d_model << " h=" << c.num_heads << " ff=" << c.d_ff
      << " L=" << c.encoder_layers << "+" << c.decoder_layers << " V=" << c.vocab_size << " "
      << position_name(c.positions) << " " << norm_name(c.norm);
  return out.str();
}

}  // namespace graft
