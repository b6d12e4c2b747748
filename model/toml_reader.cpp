#include "model/toml_reader.h"

#include <sstream>

namespace graft {

const char* toml_type_name(const toml::node& node) {
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

TomlSection::TomlSection(const toml::table* table, std::string path_prefix,
                         const std::string& source,
                         const std::map<std::string, std::string>* overrides)
    : table_(table), prefix_(std::move(path_prefix)), source_(source), overrides_(overrides) {}

TomlSection& TomlSection::within(std::string context) {
  context_ = std::move(context);
  return *this;
}

std::string TomlSection::path(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
}

const toml::node* TomlSection::get(std::string_view key) const {
  return table_ ? table_->get(key) : nullptr;
}

std::string TomlSection::where(std::string_view key) const {
  std::ostringstream out;
  out << source_;
  const std::string* assignment = nullptr;
  if (overrides_) {
    if (auto it = overrides_->find(path(key)); it != overrides_->end()) assignment = &it->second;
  }
  if (assignment) {
    out << " (" << *assignment << ")";
  } else if (const toml::node* node = get(key); node && node->source().begin.line > 0) {
    out << ":" << node->source().begin.line;
  }
  if (!context_.empty()) out << ": " << context_;
  return out.str();
}

void TomlSection::fail(std::string_view key, const std::string& problem) const {
  throw InputError(where(key) + ": " + path(key) + ": " + problem);
}

void TomlSection::check_keys(std::initializer_list<const char*> keys,
                             std::string_view label) const {
  if (!table_) return;
  for (const auto& [key, node] : *table_) {
    bool known = false;
    for (const char* k : keys)
      known = known || key.str() == k;
    if (known) continue;
    std::ostringstream out;
    out << where(key.str()) << ": unknown key " << path(key.str()) << " ("
        << (label.empty() ? std::string_view(prefix_) : label) << " keys: ";
    bool first = true;
    for (const char* k : keys) {
      out << (first ? "" : ", ") << k;
      first = false;
    }
    out << ")";
    throw InputError(out.str());
  }
}

void TomlSection::integer(std::string_view key, int64_t& out, int64_t minimum) const {
  const toml::node* node = get(key);
  if (!node) return;
  if (!node->is_integer())
    fail(key, std::string("expected an integer, got ") + toml_type_name(*node));
  out = node->as_integer()->get();
  if (out < minimum)
    fail(key, "must be >= " + std::to_string(minimum) + ", got " + std::to_string(out));
}

void TomlSection::number(std::string_view key, double& out) const {
  const toml::node* node = get(key);
  if (!node) return;
  if (node->is_integer()) {
    out = static_cast<double>(node->as_integer()->get());
  } else if (node->is_floating_point()) {
    out = node->as_floating_point()->get();
  } else {
    fail(key, std::string("expected a number, got ") + toml_type_name(*node));
  }
}

void TomlSection::boolean(std::string_view key, bool& out) const {
  const toml::node* node = get(key);
  if (!node) return;
  if (!node->is_boolean())
    fail(key, std::string("expected true or false, got ") + toml_type_name(*node));
  out = node->as_boolean()->get();
}

std::optional<std::string> TomlSection::string(std::string_view key) const {
  const toml::node* node = get(key);
  if (!node) return std::nullopt;
  if (!node->is_string()) fail(key, std::string("expected a string, got ") + toml_type_name(*node));
  return node->as_string()->get();
}

void TomlSection::string(std::string_view key, std::string& out) const {
  if (std::optional<std::string> value = string(key)) out = std::move(*value);
}

void TomlSection::string_array(std::string_view key, std::vector<std::string>& out) const {
  const toml::node* node = get(key);
  if (!node) return;
  const toml::array* array = node->as_array();
  if (!array) fail(key, std::string("expected an array of strings, got ") + toml_type_name(*node));
  out.clear();
  for (const toml::node& item : *array) {
    if (!item.is_string())
      fail(key, std::string("expected an array of strings, found ") + toml_type_name(item));
    out.push_back(item.as_string()->get());
  }
}

}  // namespace graft
