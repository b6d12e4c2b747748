// Reading finished (or partly finished) runs back from disk: a stage's run
// folder (metrics.jsonl, config.toml, train.log) and a recipe run folder
// (the runner's summary.json and one subfolder per stage), and turning them
// into the quality-vs-FLOPs curves of bench/savings/curve.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bench/savings/curve.h"

namespace graft::savings {

struct EvalRecord {
  int64_t step = 0;
  Cost cost;  // this stage's own, from its first step (earlier stages not included)
  std::map<std::string, double> metrics;  // val_loss, val_ppl, ... (non-finite ones left out)
};

struct StageRun {
  std::string name;
  std::string dir;
  // Kaplan's N for this stage's model (model/counts.h): without and with the
  // embeddings. Only the stage's [model]: a SpacTor/ELECTRA generator is not
  // in it, which the executed ledger does count.
  double params_non_embedding = 0;
  double params_with_embedding = 0;
  std::vector<EvalRecord> evals;
  Cost final_cost;           // at the stage's last record
  double wall_seconds = -1;  // negative: unknown
  bool reused = false;       // the runner marked it a reused / one-off stage
  std::string checkpoint;    // final checkpoint, when the summary names one
};

struct RecipeRun {
  std::string name;
  std::string dir;
  int64_t seed = -1;  // negative: unknown
  std::vector<StageRun> stages;
  double wall_seconds = -1;

  const StageRun* stage(const std::string& name) const;
  Cost total_cost() const;  // every stage to its end
};

// One stage folder. name: for messages and matching (default: the folder's
// last path component). N comes from config.toml's [model]; a missing or
// unreadable config is an InputError. Records a resume rewrote (steps at or
// after a later record's restart point) are dropped, keeping the resumed
// ones.
StageRun load_stage_run(const std::string& dir, const std::string& name = "");

// A recipe run folder. With summary.json: its stages, in its order, with
// their wall times, checkpoints and reused flags. Without: a single-stage
// folder (metrics.jsonl in dir itself), or, when stage_order is given, those
// subfolders in that order. InputError when neither is there.
RecipeRun load_recipe_run(const std::string& dir, const std::vector<std::string>& stage_order = {});

// What a comparison reads from one side.
struct CurveSpec {
  std::string metric = "val_loss";
  // Stages whose evaluations form the curve (empty: the last stage). Their
  // FLOPs axis starts at the summed cost of every stage before them.
  std::vector<std::string> curve_stages;
  // Stages whose cost is a reused / one-off checkpoint (on top of the ones
  // the runner's summary marks): counted in with_reused, not in without.
  // Each entry is a stage name, "<run>/<stage>", or a run name (all of it).
  std::set<std::string> reused_stages;
};

// The curve of run under spec, prefixed by the full cost of `also` (other
// runs whose models the comparison also counts: e.g. the MLM encoder from
// scratch that the sequential recipe's baseline pays for as well). An also
// run counts as reused when all its stages are.
Curve build_curve(const RecipeRun& run, const CurveSpec& spec,
                  const std::vector<const RecipeRun*>& also = {});

// Is this stage's cost a reused checkpoint's under spec?
bool is_reused(const RecipeRun& run, const StageRun& stage, const CurveSpec& spec);

}  // namespace graft::savings
