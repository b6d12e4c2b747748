// Suite files (suites/<name>.toml): which recipes run against which
// baselines, the metric each comparison reads, and the paper's figure.
//
//   [suite]
//   name = "main"
//   description = "..."
//   recipe_path = "recipes/{name}.toml"   # {name}: a run name; {scale}: --scale
//   seeds = 2                             # default seed count (--seeds wins)
//   first_seed = 0
//   [scale.tiny]                          # optional, per scale
//   set = ["training.steps=40"]           # --set overrides for every run
//   seeds = 1
//
//   [[comparison]]
//   name = "spactor"             # the table row (default: recipe)
//   recipe = "spactor"           # run names: recipe_path with {name} = this
//   baseline = "t5_sc"
//   metric = "val_loss"          # val_loss | val_ppl | val_bits_per_byte | val_accuracy
//   target = 2.5                 # optional named target (default: baseline's final)
//   recipe_stages = ["sc"]       # stages whose evaluations make the curve (default: last)
//   baseline_stages = []
//   reused_stages = ["mlm"]      # the recipe's one-off / reused-checkpoint costs:
//                                # "<stage>", "<run>/<stage>" or a whole "<run>"
//   baseline_reused = []         # the same on the baseline's side
//   recipe_also = []             # other runs whose whole cost a side also pays
//   baseline_also = ["mlm_encoder"]
//   paper = "40% fewer FLOPs, 50% fewer iterations"
//
// Unknown keys, wrong types and comparisons naming no recipe are InputErrors
// naming the file and line.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bench/savings/table.h"

namespace graft::savings {

struct ScaleSettings {
  std::vector<std::string> overrides;
  int64_t seeds = 0;  // 0: the suite's default
};

struct Suite {
  std::string path;
  std::string name;
  std::string description;
  std::string recipe_path = "recipes/{name}.toml";
  int64_t seeds = 1;
  int64_t first_seed = 0;
  std::map<std::string, ScaleSettings> scales;
  std::vector<ComparisonSpec> comparisons;

  // Every run name the comparisons use (recipes, baselines, also-runs), each
  // once, in first-use order: the order `suite run` trains them in.
  std::vector<std::string> run_names() const;
  // recipe_path with {name} and {scale} filled in.
  std::string recipe_file(const std::string& run_name, const std::string& scale) const;
};

Suite load_suite(const std::string& path);
Suite suite_from_toml_text(const std::string& text, const std::string& source);

// Where a run of one seed lives under a suite's run folder.
std::string seed_run_dir(const std::string& suite_dir, const std::string& run_name, int64_t seed);

// Builds every comparison's result from run folders already on disk
// (<suite_dir>/<run>/seed-<s>). A seed with a missing side is left out with a
// note in *missing; a comparison with no complete seed is left out entirely.
struct Report {
  Report() = default;
  Report(Report&&) = default;
  Report(const Report&) = delete;  // runs point into loaded
  std::vector<ComparisonResult> results;
  std::vector<std::vector<SeedRuns>> runs;  // per result, what it was built from
  std::map<std::string, RecipeRun> loaded;  // "<run>/seed-<s>": owns what runs point into
  std::vector<std::string> missing;
};
// expected_stages (optional): a run's stage names from its recipe file; a
// run folder missing any of them is unfinished and left out (its last listed
// stage would otherwise pass for its final one).
using StageNames = std::function<std::vector<std::string>(const std::string& run_name)>;
Report build_report(const Suite& suite, const std::string& suite_dir,
                    const std::vector<int64_t>& seeds, const StageNames& expected_stages = {});

// Writes table.md, table.csv and one <comparison>.png (+ .gp) per comparison
// into out_dir; returns the table's Markdown (what `suite run` prints). Plot
// problems become lines in *notes, never a failure.
std::string write_report(const Report& report, const Suite& suite, const std::string& scale,
                         const std::string& out_dir, std::vector<std::string>* notes);

}  // namespace graft::savings
