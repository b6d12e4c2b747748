#include "model/config_toml.h"

#include <initializer_list>
#include <optional>
#include <sstream>
#include <vector>

#include "model/toml_reader.h"
#include "ops/check.h"

namespace graft {

namespace {

const std::initializer_list<const char*> kKeys = {"kind",
                                                  "preset",
                                                  "vocab_size",
                                                  "d_model",
                                                  "num_heads",
                                                  "d_ff",
                                                  "encoder_layers",
                                                  "decoder_layers",
                                                  "max_positions",
                                                  "positions",
                                                  "rotary_base",
                                                  "norm",
                                                  "norm_eps",
                                                  "dropout",
                                                  "tie_embeddings",
                                                  "cross_attention",
                                                  "init_std",
                                                  "heads",
                                                  "num_classes",
                                                  "pooling",
                                                  "share_encoder_decoder"};

void read_heads(const TomlSection& r, ModelConfig& c) {
  if (!r.get("heads")) return;
  std::vector<std::string> heads;
  r.string_array("heads", heads);
  c.lm_head = c.mlm_head = c.rtd_head = false;
  bool classifier = false;
  for (const std::string& name : heads) {
    if (name == "lm") {
      c.lm_head = true;
    } else if (name == "mlm") {
      c.mlm_head = true;
    } else if (name == "rtd") {
      c.rtd_head = true;
    } else if (name == "classifier") {
      classifier = true;
    } else {
      r.fail("heads", "unknown head '" + name + "' (expected lm, mlm, rtd or classifier)");
    }
  }
  // num_classes alone (heads not given) adds the classifier to the preset's
  // heads; with heads given the two must agree.
  if (classifier && c.num_classes == 0)
    r.fail("heads", "the classifier head needs num_classes > 0");
  if (!classifier && c.num_classes > 0) {
    r.fail("num_classes", "set, but heads does not list classifier");
  }
}

}  // namespace

ModelConfig model_config_from_toml(const toml::table& table, const std::string& source,
                                   const std::string& key_prefix) {
  const TomlSection r(&table, key_prefix, source);
  r.check_keys(kKeys, "model");
  const std::optional<std::string> kind_text = r.string("kind");
  GRAFT_INPUT_CHECK(
      kind_text.has_value(),
      source << ": " << r.path("kind") << ": missing (encoder, decoder or encoder_decoder)");
  ModelKind kind = ModelKind::decoder;
  r.choice("kind", kind,
           [](std::string_view t, std::string_view k) { return parse_model_kind(t, k); });
  std::string preset = r.string("preset").value_or("tiny");
  ModelConfig c;
  try {
    c = model_preset(kind, preset);
  } catch (const InputError& e) {
    r.fail("preset", e.what());
  }
  r.integer("num_classes", c.num_classes);
  r.integer("vocab_size", c.vocab_size);
  r.integer("d_model", c.d_model);
  r.integer("num_heads", c.num_heads);
  r.integer("d_ff", c.d_ff);
  r.integer("encoder_layers", c.encoder_layers);
  r.integer("decoder_layers", c.decoder_layers);
  r.integer("max_positions", c.max_positions);
  r.choice("positions", c.positions, parse_position_kind);
  r.number("rotary_base", c.rotary_base);
  r.choice("norm", c.norm, parse_norm_kind);
  r.number("norm_eps", c.norm_eps);
  r.number("dropout", c.dropout);
  r.boolean("tie_embeddings", c.tie_embeddings);
  r.boolean("cross_attention", c.cross_attention);
  r.boolean("share_encoder_decoder", c.share_encoder_decoder);
  r.number("init_std", c.init_std);
  r.choice("pooling", c.pooling, parse_pooling);
  read_heads(r, c);
  try {
    c.validate();
  } catch (const InputError& e) {
    throw InputError(source + ": " + (key_prefix.empty() ? "" : key_prefix + ": ") + e.what());
  }
  return c;
}

ModelConfig model_config_from_toml_text(std::string_view text, const std::string& source,
                                        const std::string& key_prefix) {
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << source << ":" << e.source().begin.line << ": " << e.description();
    throw InputError(out.str());
  }
  return model_config_from_toml(table, source, key_prefix);
}

toml::table model_config_to_toml(const ModelConfig& c) {
  toml::array heads;
  if (c.lm_head) heads.push_back("lm");
  if (c.mlm_head) heads.push_back("mlm");
  if (c.rtd_head) heads.push_back("rtd");
  if (c.has_classifier()) heads.push_back("classifier");
  toml::table t{{"kind", kind_name(c.kind)},
                {"vocab_size", c.vocab_size},
                {"d_model", c.d_model},
                {"num_heads", c.num_heads},
                {"d_ff", c.d_ff},
                {"encoder_layers", c.encoder_layers},
                {"decoder_layers", c.decoder_layers},
                {"max_positions", c.max_positions},
                {"positions", position_name(c.positions)},
                {"rotary_base", c.rotary_base},
                {"norm", norm_name(c.norm)},
                {"norm_eps", c.norm_eps},
                {"dropout", c.dropout},
                {"tie_embeddings", c.tie_embeddings},
                {"cross_attention", c.cross_attention},
                {"init_std", c.init_std},
                {"heads", heads},
                {"num_classes", c.num_classes},
                {"pooling", pooling_name(c.pooling)},
                {"share_encoder_decoder", c.share_encoder_decoder}};
  return t;
}

}  // namespace graft
