// Typed reads from a TOML table with errors that name file, line and key, so
// every graft TOML file (model, stage, recipe, savings suite) reports mistakes
// the same way: "<source>:<line>: <prefix>.<key>: <problem>", or
// "<source> (--set <assignment>): ..." for a value a --set override wrote.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "ops/check.h"

namespace graft {

// "a string", "an integer", "a float", ...: for "expected X, got Y" messages.
const char* toml_type_name(const toml::node& node);

class TomlSection {
 public:
  // table may be null (an absent section): every key then reads as absent.
  // path_prefix: how the table's keys are spelled in messages ("training"
  // gives "training.steps"; empty gives "steps"). overrides: key path
  // ("training.steps") -> the --set argument that wrote it.
  TomlSection(const toml::table* table, std::string path_prefix, const std::string& source,
              const std::map<std::string, std::string>* overrides = nullptr);

  // Said before the key path in every message: within("stage 's2s'") gives
  // "f.toml:3: stage 's2s': task.tau: ...".
  TomlSection& within(std::string context);

  const toml::table* table() const { return table_; }
  std::string path(std::string_view key) const;
  const toml::node* get(std::string_view key) const;
  // "source:line", or "source (--set ...)" when an override wrote the key.
  std::string where(std::string_view key) const;

  [[noreturn]] void fail(std::string_view key, const std::string& problem) const;

  // Rejects a key not in keys, listing them: "(<label> keys: a, b)"; label
  // defaults to the path prefix.
  void check_keys(std::initializer_list<const char*> keys, std::string_view label = {}) const;

  // Each leaves out unchanged when the key is absent.
  void integer(std::string_view key, int64_t& out,
               int64_t minimum = std::numeric_limits<int64_t>::min()) const;
  // Integers are accepted as numbers.
  void number(std::string_view key, double& out) const;
  void boolean(std::string_view key, bool& out) const;
  void string(std::string_view key, std::string& out) const;
  std::optional<std::string> string(std::string_view key) const;
  void string_array(std::string_view key, std::vector<std::string>& out) const;

  // parse(text, key) turns the string into T; its InputError is reported with
  // source, line and key.
  template <class T, class Parse>
  void choice(std::string_view key, T& out, Parse parse) const {
    const std::optional<std::string> text = string(key);
    if (!text) return;
    try {
      out = parse(*text, key);
    } catch (const InputError& e) {
      fail(key, e.what());
    }
  }

 private:
  const toml::table* table_;
  std::string prefix_;
  std::string source_;
  const std::map<std::string, std::string>* overrides_;
  std::string context_;
};

}  // namespace graft
