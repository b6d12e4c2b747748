// Checks shared by the transform tests: a transform's report must account
// for every target tensor, its copies must be bit-equal to their sources, and
// what it calls random must be exactly a fresh initialisation with its seed.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "model/model.h"
#include "recipes/transforms/transform.h"

namespace graft::testing {

inline bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.bytes()) == 0;
}

inline std::set<std::string> as_set(const std::vector<std::string>& names) {
  return {names.begin(), names.end()};
}

// Every registered tensor is in exactly one of copied / computed / random;
// each copy is bit-equal to its named source tensor (sources tried in order:
// the first that has the name); each random tensor is bit-equal to the same
// tensor of make_model(config, seed), the result's own config.
inline void expect_report_accounts_for_everything(const TransformResult& result,
                                                  const std::vector<const Model*>& sources,
                                                  uint64_t seed) {
  const Parameters& p = result.model->parameters();
  const TransformReport& r = result.report;
  std::multiset<std::string> seen;
  for (const CopiedParameter& c : r.copied)
    seen.insert(c.name);
  for (const std::string& n : r.computed)
    seen.insert(n);
  for (const std::string& n : r.random)
    seen.insert(n);
  EXPECT_EQ(seen.size(), p.size());
  for (const std::string& name : p.names())
    EXPECT_EQ(seen.count(name), 1u) << r.transform << ": " << name;

  int64_t copied = 0, random = 0;
  for (const CopiedParameter& c : r.copied) {
    bool found = false;
    for (const Model* s : sources) {
      if (!s->parameters().contains(c.source)) continue;
      found = true;
      EXPECT_TRUE(bit_equal(p.get(c.name), s->parameters().get(c.source)))
          << r.transform << ": " << c.name << " <- " << c.source;
      break;
    }
    EXPECT_TRUE(found) << r.transform << ": no source has " << c.source;
    copied += p.get(c.name).numel();
  }
  auto fresh = make_model(result.model->config(), seed, result.model->dtype());
  for (const std::string& name : r.random) {
    EXPECT_TRUE(bit_equal(p.get(name), fresh->parameters().get(name)))
        << r.transform << ": random " << name << " is not the fresh initialisation";
    random += p.get(name).numel();
  }
  EXPECT_EQ(r.copied_numel, copied);
  EXPECT_EQ(r.random_numel, random);
}

}  // namespace graft::testing
