// Parameters: the model's ordered name -> Tensor registry.
//
// Names are the contract between models, checkpoints, freezing schedules,
// transfer recipes and tensor-parallel sharding rules (see model/README.md for
// the scheme), so every lookup failure says which names exist nearby instead of
// just "not found". Order is registration order, which is deterministic for a
// given config, so iteration order can be relied on by optimizers and
// checkpoints.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ops/tensor.h"

namespace graft {

// True when name matches pattern, where '*' matches any run of characters
// (dots included, so "encoder.*" covers every encoder parameter) and every
// other character matches itself.
bool glob_match(std::string_view pattern, std::string_view name);

struct NamedParameter {
  std::string name;
  Tensor tensor;
};

class Parameters {
 public:
  // Registers t under name (a duplicate name is an Error) and returns it.
  // Trainability is t.requires_grad(); models register with it set.
  const Tensor& add(const std::string& name, const Tensor& t);

  // Registers alias as a second name of the registered parameter canonical
  // (an Error when canonical is unknown or alias is already a name).
  void add_alias(const std::string& alias, const std::string& canonical);

  // Both accept aliases.
  bool contains(const std::string& name) const;
  // The tensor named exactly name; an unknown name is an InputError that lists
  // the closest registered names.
  const Tensor& get(const std::string& name) const;
  // The registered name an alias stands for; any other name unchanged.
  const std::string& canonical_name(const std::string& name) const;
  bool is_alias(const std::string& name) const;
  // (alias, canonical) pairs in registration order.
  const std::vector<std::pair<std::string, std::string>>& aliases() const { return aliases_; }

  // Names matching a glob pattern, in registration order (may be empty).
  std::vector<std::string> match(std::string_view pattern) const;
  // Sets requires_grad on every parameter matching pattern and returns how many
  // matched; a pattern matching nothing is an InputError (a typo in a freezing
  // schedule must not silently train everything).
  size_t set_trainable(std::string_view pattern, bool trainable);
  size_t freeze(std::string_view pattern) { return set_trainable(pattern, false); }
  size_t unfreeze(std::string_view pattern) { return set_trainable(pattern, true); }

  // Transfer: copies the values of every parameter of this registry that
  // matches pattern and exists in source under the same name (dtype converted;
  // a shape mismatch is an InputError naming the parameter). Returns the names
  // copied, in this registry's order.
  std::vector<std::string> copy_matching(const Parameters& source, std::string_view pattern = "*");

  const std::vector<NamedParameter>& entries() const { return entries_; }
  std::vector<std::string> names() const;
  size_t size() const { return entries_.size(); }

  // Element counts: all parameters, trainable ones, and those whose name
  // starts with prefix (e.g. "encoder." or "embed.").
  int64_t numel() const;
  int64_t trainable_numel() const;
  int64_t numel_with_prefix(std::string_view prefix) const;

  void zero_grad() const;

 private:
  std::vector<NamedParameter> entries_;
  std::vector<std::pair<std::string, std::string>> aliases_;
};

}  // namespace graft
