// The savings table: one comparison row per recipe-vs-baseline pair (over
// every seed run), plus explicit rows for one-off costs, written as
// table.md and table.csv (RECIPES.md, "How the harness measures savings").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/savings/curve.h"
#include "bench/savings/runs.h"

namespace graft::savings {

struct ComparisonSpec {
  std::string name;    // the row's label (usually the recipe's name)
  std::string recipe;  // run names (a recipe file's stem)
  std::string baseline;
  std::string metric = "val_loss";
  std::optional<double> target;              // named target; default: the baseline's final quality
  std::vector<std::string> recipe_stages;    // curve stages (empty: the last)
  std::vector<std::string> baseline_stages;  // curve stages (empty: the last)
  // One-off / reused-checkpoint costs: "<stage>", "<run>/<stage>" or a whole
  // "<run>" (an also-run), on the recipe's and the baseline's side.
  std::vector<std::string> reused_stages;
  std::vector<std::string> baseline_reused;
  // Other runs whose full cost a side also pays (the sequential recipe's
  // baseline trains an MLM encoder from scratch as well).
  std::vector<std::string> recipe_also;
  std::vector<std::string> baseline_also;
  std::string paper;  // the paper's figure, printed beside graft's
};

// One seed's pair of runs, measured.
struct SeedOutcome {
  int64_t seed = -1;
  double target = 0;
  std::optional<CurvePoint> recipe;  // nullopt: never reached the target
  std::optional<CurvePoint>
      baseline;             // reaches its own final quality unless a named target is used
  double recipe_wall = -1;  // whole runs, seconds (negative: unknown)
  double baseline_wall = -1;
  Cost recipe_total;  // to the end of every stage
  Cost baseline_total;
};

// The runs of one seed that a comparison needs, by name.
struct SeedRuns {
  int64_t seed = -1;
  const RecipeRun* recipe = nullptr;
  const RecipeRun* baseline = nullptr;
  std::vector<const RecipeRun*> recipe_also;
  std::vector<const RecipeRun*> baseline_also;
};

// The curve settings of one side of a comparison.
CurveSpec curve_spec(const ComparisonSpec& spec, bool recipe_side);

SeedOutcome measure(const ComparisonSpec& spec, const SeedRuns& runs);

// 1 − FLOPs(R)/FLOPs(B); nullopt when either side did not reach the target.
std::optional<double> savings(const SeedOutcome& o, Convention convention, bool with_reused);
std::optional<double> step_savings(const SeedOutcome& o);

struct OneOffCost {
  std::string comparison;
  std::string stage;  // "<run>/<stage>"
  Cost cost;          // mean over seeds
  double wall_seconds = -1;
  int seeds = 0;
};

struct ComparisonResult {
  ComparisonSpec spec;
  std::vector<SeedOutcome> seeds;
  std::vector<OneOffCost> one_offs;
};

// Mean and sample standard deviation of the seeds' values; nullopt mean when
// any seed has none (a "not reached" is never averaged away).
struct Aggregate {
  std::optional<double> mean;
  double stddev = 0;
  double min = 0, max = 0;
  int count = 0;    // seeds with a value
  int missing = 0;  // seeds without one
};
Aggregate aggregate(const std::vector<std::optional<double>>& values);

// Every seed measured, and the reused stages' (and reused also-runs') own
// costs as one-off rows.
ComparisonResult compare(const ComparisonSpec& spec, const std::vector<SeedRuns>& runs);

// "1.23e15", "—" style helpers used by both formats.
std::string format_flops(double flops);
std::string format_percent(double fraction);
std::string format_seconds(double seconds);

// The header and rows of table.csv (RFC 4180 quoting) and table.md.
std::string table_csv(const std::vector<ComparisonResult>& results);
std::string table_markdown(const std::vector<ComparisonResult>& results, const std::string& title);

}  // namespace graft::savings
