#include "recipes/objectives/masking.h"

#include <algorithm>
#include <cmath>

namespace graft::objectives {

std::vector<int64_t> choose_masked_positions(std::span<const int32_t> row, const Vocab& vocab,
                                             double prob, Rng& rng) {
  std::vector<int64_t> candidates;
  for (size_t i = 0; i < row.size(); ++i) {
    if (maskable(row[i], vocab)) candidates.push_back(static_cast<int64_t>(i));
  }
  if (candidates.empty()) return {};
  const auto count = std::clamp<int64_t>(
      static_cast<int64_t>(std::nearbyint(prob * static_cast<double>(candidates.size()))), 1,
      static_cast<int64_t>(candidates.size()));
  // Partial Fisher-Yates: the first `count` entries are a uniform sample.
  for (int64_t i = 0; i < count; ++i) {
    const auto j = i + static_cast<int64_t>(rng.below(candidates.size() - i));
    std::swap(candidates[i], candidates[j]);
  }
  candidates.resize(static_cast<size_t>(count));
  std::sort(candidates.begin(), candidates.end());
  return candidates;
}

}  // namespace graft::objectives
