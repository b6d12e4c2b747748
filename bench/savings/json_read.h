// A small JSON reader for what graft itself writes (metrics.jsonl lines, the
// recipe runner's summary.json). graft writes JSON by hand (train/run_dir.h's
// JsonObject) and has no JSON dependency; reading needs only values, arrays
// and objects, with null standing for the non-finite numbers JsonObject
// writes as null.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace graft::savings {

class JsonValue {
 public:
  enum class Type { null, boolean, number, string, array, object };

  JsonValue() = default;
  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::null; }
  bool is_number() const { return type_ == Type::number; }
  bool is_string() const { return type_ == Type::string; }
  bool is_array() const { return type_ == Type::array; }
  bool is_object() const { return type_ == Type::object; }

  double number() const { return number_; }
  bool boolean() const { return boolean_; }
  const std::string& string() const { return string_; }
  const std::vector<JsonValue>& array() const { return array_; }
  const std::map<std::string, JsonValue>& object() const { return object_; }

  // Member lookup on an object; null for a missing key or a non-object.
  const JsonValue* find(const std::string& key) const;
  // A number member, if present and a number (null counts as absent).
  std::optional<double> number_at(const std::string& key) const;
  std::optional<std::string> string_at(const std::string& key) const;
  std::optional<bool> bool_at(const std::string& key) const;

  static JsonValue make_null() { return JsonValue(); }
  static JsonValue make_number(double v);
  static JsonValue make_bool(bool v);
  static JsonValue make_string(std::string v);
  static JsonValue make_array(std::vector<JsonValue> v);
  static JsonValue make_object(std::map<std::string, JsonValue> v);

 private:
  Type type_ = Type::null;
  double number_ = 0;
  bool boolean_ = false;
  std::string string_;
  std::vector<JsonValue> array_;
  std::map<std::string, JsonValue> object_;
};

// Parses one JSON document; InputError naming source (file:line) on bad
// syntax or trailing text.
JsonValue parse_json(std::string_view text, const std::string& source);

// Every non-empty line of a .jsonl file; InputError naming file and line.
std::vector<JsonValue> read_jsonl(const std::string& path);
JsonValue read_json_file(const std::string& path);

}  // namespace graft::savings
