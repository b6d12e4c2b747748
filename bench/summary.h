// SummaryReporter: the usual console output, plus the median GFLOP/s and
// seconds per iteration of every benchmark kept by name, so a program can
// print a side-by-side table (graft vs raw BLAS, totals) from the same run.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace graft::bench {

class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  struct Result {
    std::vector<double> seconds;  // real seconds per iteration, one per repetition
    std::vector<double> gflops;   // the GFLOP/s counter, one per repetition
  };

  // Plain tabular console output (no colour codes: the output is often piped).
  SummaryReporter() : benchmark::ConsoleReporter(OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    benchmark::ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred || run.iterations == 0) continue;
      // Iteration runs are kept one per repetition; of the aggregates (shown
      // alone with --benchmark_display_aggregates_only) only the median.
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type != Run::RT_Iteration && !median) continue;
      // Keyed by the registered name, without the "/real_time" suffix.
      std::string name = run.run_name.str();
      const std::string suffix = "/real_time";
      if (name.size() > suffix.size() && name.ends_with(suffix)) {
        name.resize(name.size() - suffix.size());
      }
      Result& r = median ? aggregate_medians_[name] : results_[name];
      r.seconds.push_back(run.GetAdjustedRealTime() /
                          benchmark::GetTimeUnitMultiplier(run.time_unit));
      auto it = run.counters.find("GFLOP/s");
      if (it != run.counters.end()) r.gflops.push_back(it->second.value);
    }
  }

  bool has(const std::string& name) const { return find(name) != nullptr; }
  // Medians over repetitions (0 when the benchmark did not run).
  double median_seconds(const std::string& name) const { return median(name, true); }
  double median_gflops(const std::string& name) const { return median(name, false); }
  // The best repetition's GFLOP/s: on a shared machine, the closest to the
  // uncontended rate (0 when the benchmark did not run).
  double best_gflops(const std::string& name) const {
    const Result* r = find(name);
    if (r == nullptr || r->gflops.empty()) return 0;
    return *std::max_element(r->gflops.begin(), r->gflops.end());
  }

 private:
  double median(const std::string& name, bool seconds) const {
    const Result* r = find(name);
    if (r == nullptr) return 0;
    std::vector<double> v = seconds ? r->seconds : r->gflops;
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t h = v.size() / 2;
    return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
  }
  // The repetitions when seen, else the library's median aggregate.
  const Result* find(const std::string& name) const {
    for (const auto* m : {&results_, &aggregate_medians_}) {
      auto it = m->find(name);
      if (it != m->end()) return &it->second;
    }
    return nullptr;
  }
  std::map<std::string, Result> results_;
  std::map<std::string, Result> aggregate_medians_;
};

}  // namespace graft::bench
