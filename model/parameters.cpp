#include "model/parameters.h"

#include <algorithm>
#include <sstream>

namespace graft {

bool glob_match(std::string_view pattern, std::string_view name) {
  // Iterative wildcard matching with backtracking to the last '*': linear in
  // practice and no recursion on long names.
  size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string near_names(const std::vector<NamedParameter>& entries, std::string_view name) {
  std::vector<std::pair<size_t, std::string>> scored;
  for (const NamedParameter& e : entries)
    scored.emplace_back(edit_distance(name, e.name), e.name);
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::ostringstream out;
  for (size_t i = 0; i < std::min<size_t>(3, scored.size()); ++i) {
    out << (i ? ", " : "") << scored[i].second;
  }
  return out.str();
}

}  // namespace

const Tensor& Parameters::add(const std::string& name, const Tensor& t) {
  GRAFT_CHECK(!name.empty(), "parameter names must not be empty");
  GRAFT_CHECK(t.defined(), "parameter " << name << " is undefined");
  GRAFT_CHECK(!contains(name), "parameter " << name << " registered twice");
  entries_.push_back({name, t});
  return entries_.back().tensor;
}

void Parameters::add_alias(const std::string& alias, const std::string& canonical) {
  GRAFT_CHECK(!alias.empty(), "parameter aliases must not be empty");
  GRAFT_CHECK(!contains(alias), "parameter alias " << alias << " is already a name");
  GRAFT_CHECK(
      contains(canonical) && !is_alias(canonical),
      "alias " << alias << " names " << canonical << ", which is not a registered parameter");
  aliases_.emplace_back(alias, canonical);
}

const std::string& Parameters::canonical_name(const std::string& name) const {
  for (const auto& [alias, canonical] : aliases_) {
    if (alias == name) return canonical;
  }
  return name;
}

bool Parameters::is_alias(const std::string& name) const {
  return std::any_of(aliases_.begin(), aliases_.end(),
                     [&](const auto& a) { return a.first == name; });
}

bool Parameters::contains(const std::string& name) const {
  const std::string& key = canonical_name(name);
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const NamedParameter& e) { return e.name == key; });
}

const Tensor& Parameters::get(const std::string& name) const {
  const std::string& key = canonical_name(name);
  for (const NamedParameter& e : entries_) {
    if (e.name == key) return e.tensor;
  }
  std::string message = "no parameter named '" + name + "'";
  if (!entries_.empty()) message += "; closest: " + near_names(entries_, name);
  throw InputError(message);
}

std::vector<std::string> Parameters::match(std::string_view pattern) const {
  std::vector<std::string> out;
  for (const NamedParameter& e : entries_) {
    if (glob_match(pattern, e.name)) out.push_back(e.name);
  }
  return out;
}

size_t Parameters::set_trainable(std::string_view pattern, bool trainable) {
  size_t matched = 0;
  for (NamedParameter& e : entries_) {
    if (!glob_match(pattern, e.name)) continue;
    e.tensor.set_requires_grad(trainable);
    ++matched;
  }
  GRAFT_INPUT_CHECK(matched > 0,
                    "parameter pattern '"
                        << pattern << "' matches no parameter"
                        << (entries_.empty() ? std::string()
                                             : "; closest: " + near_names(entries_, pattern)));
  return matched;
}

std::vector<std::string> Parameters::copy_matching(const Parameters& source,
                                                   std::string_view pattern) {
  std::vector<std::string> copied;
  for (const NamedParameter& e : entries_) {
    if (!glob_match(pattern, e.name) || !source.contains(e.name)) continue;
    const Tensor& from = source.get(e.name);
    GRAFT_INPUT_CHECK(from.shape() == e.tensor.shape(),
                      "cannot copy parameter " << e.name << ": source has shape "
                                               << shape_string(from.shape()) << ", target "
                                               << shape_string(e.tensor.shape()));
    e.tensor.copy_from(from.dtype() == e.tensor.dtype() ? from : from.to(e.tensor.dtype()));
    copied.push_back(e.name);
  }
  return copied;
}

std::vector<std::string> Parameters::names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const NamedParameter& e : entries_)
    out.push_back(e.name);
  return out;
}

int64_t Parameters::numel() const {
  int64_t total = 0;
  for (const NamedParameter& e : entries_)
    total += e.tensor.numel();
  return total;
}

int64_t Parameters::trainable_numel() const {
  int64_t total = 0;
  for (const NamedParameter& e : entries_) {
    if (e.tensor.requires_grad()) total += e.tensor.numel();
  }
  return total;
}

int64_t Parameters::numel_with_prefix(std::string_view prefix) const {
  int64_t total = 0;
  for (const NamedParameter& e : entries_) {
    if (std::string_view(e.name).substr(0, prefix.size()) == prefix) total += e.tensor.numel();
  }
  return total;
}

void Parameters::zero_grad() const {
  for (const NamedParameter& e : entries_)
    e.tensor.zero_grad();
}

}  // namespace graft
