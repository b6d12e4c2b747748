#include "model/config_toml.h"

#include <optional>
#include <sstream>

#include "ops/check.h"

namespace graft {

namespace {

class Reader {
 public:
  Reader(const toml::table& table, const std::string& source, const std::string& prefix)
      : table_(table), source_(source), prefix_(prefix) {}

  std::string key_path(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }

  [[noreturn]] void fail(std::string_view key, const std::string& problem) const {
    std::ostringstream out;
    out << source_;
    if (const toml::node* node = table_.get(key)) {
      if (node->source().begin.line > 0) out << ":" << node->source().begin.line;
    }
    out << ": " << key_path(key) << ": " << problem;
    throw InputError(out.str());
  }

  static const char* type_name(const toml::node& node) {
    switch (node.type()) {
      case toml::node_type::string:
        return "a string";
      case toml::node_type::integer:
        return "an integer";
      case toml::node_type::floating_point:
        return "a float";
      case toml::node_type::boolean:
        return "a boolean";
      case toml::node_type::array:
        return "an array";
      case toml::node_type::table:
        return "a table";
      default:
        return "a date/time";
    }
  }

  void integer(std::string_view key, int64_t& out) const {
    const toml::node* node = table_.get(key);
    if (!node) return;
    if (!node->is_integer()) fail(key, std::string("expected an integer, got ") + type_name(*node));
    out = node->as_integer()->get();
  }

  void number(std::string_view key, double& out) const {
    const toml::node* node = table_.get(key);
    if (!node) return;
    if (node->is_integer()) {
      out = static_cast<double>(node->as_integer()->get());
    } else if (node->is_floating_point()) {
      out = node->as_floating_point()->get();
    } else {
      fail(key, std::string("expected a number, got ") + type_name(*node));
    }
  }

  void boolean(std::string_view key, bool& out) const {
    const toml::node* node = table_.get(key);
    if (!node) return;
    if (!node->is_boolean())
      fail(key, std::string("expected true or false, got ") + type_name(*node));
    out = node->as_boolean()->get();
  }

  // Runs parse on the string value, turning its InputError into one that
  // carries source, line and key.
  template <class T, class Parse>
  void choice(std::string_view key, T& out, Parse parse) const {
    const toml::node* node = table_.get(key);
    if (!node) return;
    if (!node->is_string()) fail(key, std::string("expected a string, got ") + type_name(*node));
    try {
      out = parse(node->as_string()->get(), key);
    } catch (const InputError& e) {
      fail(key, e.what());
    }
  }

  std::optional<std::string> string(std::string_view key) const {
    const toml::node* node = table_.get(key);
    if (!node) return std::nullopt;
    if (!node->is_string()) fail(key, std::string("expected a string, got ") + type_name(*node));
    return node->as_string()->get();
  }

  const toml::table& table() const { return table_; }

 private:
  const toml::table& table_;
  const std::string& source_;
  const std::string& prefix_;
};

const char* const kKeys[] = {"kind",
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

void read_heads(const Reader& r, ModelConfig& c) {
  const toml::node* node = r.table().get("heads");
  if (!node) return;
  const toml::array* heads = node->as_array();
  if (!heads)
    r.fail("heads", std::string("expected an array of strings, got ") + Reader::type_name(*node));
  c.lm_head = c.mlm_head = c.rtd_head = false;
  bool classifier = false;
  for (const toml::node& item : *heads) {
    if (!item.is_string()) r.fail("heads", "expected an array of strings");
    const std::string name = item.as_string()->get();
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
  Reader r(table, source, key_prefix);
  for (const auto& [key, node] : table) {
    bool known = false;
    for (const char* k : kKeys)
      known = known || key.str() == k;
    if (!known) {
      std::ostringstream out;
      out << source;
      if (node.source().begin.line > 0) out << ":" << node.source().begin.line;
      out << ": unknown key " << r.key_path(key.str()) << " (model keys: ";
      for (size_t i = 0; i < std::size(kKeys); ++i)
        out << (i ? ", " : "") << kKeys[i];
      out << ")";
      throw InputError(out.str());
    }
  }
  const std::optional<std::string> kind_text = r.string("kind");
  GRAFT_INPUT_CHECK(
      kind_text.has_value(),
      source << ": " << r.key_path("kind") << ": missing (encoder, decoder or encoder_decoder)");
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
