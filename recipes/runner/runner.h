// run_recipe: a recipe's stages in order (recipes/README.md).
//
// Stage i trains in <run dir>/<stage name> through run_stage with
//   initial_model  its init from earlier stages' final checkpoints (init.h)
//   carried_flops  the executed FLOPs of stages 0..i-1 (one ledger for the
//                  recipe; each checkpoint stores it, so a resumed stage
//                  keeps it)
//   resume         an interrupted stage continues from its newest checkpoint
//   make_task/data rtd, spactor, tlm (tasks.h)
// A stage whose newest checkpoint is at its budget (training.steps) is
// complete and is skipped: no model is built, no step runs; its figures come
// from that checkpoint and the stage.toml written when it finished.
// After each stage <run dir>/summary.json is rewritten: per stage its init,
// steps, tokens, executed FLOPs (forward / backward / model), the carried
// total after it, final evaluation, wall time and final checkpoint; and the
// recipe's total.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "ops/flops.h"
#include "recipes/runner/recipe_file.h"
#include "train/distributed.h"

namespace graft::runner {

struct RecipeRunOptions {
  std::FILE* info = stdout;      // what is being run (null: nothing)
  std::FILE* progress = stderr;  // per-stage progress (null: none)
  bool measure_peak = true;
  TrainingGrid grid;  // passed to every stage
  // A stage index folder (stage_sharing.h): stages another run already
  // finished with the same identity are linked, not trained. Empty: off.
  std::string stage_index;
};

struct StageSummary {
  std::string name;
  std::string init;
  std::vector<std::string> from;
  std::string transform;      // the init's report summary
  bool skipped = false;       // complete before this run
  int64_t resumed_from = -1;  // checkpoint step resumed from; -1: none
  int64_t steps = 0;          // completed (= training.steps)
  int64_t tokens = 0;
  FlopsLedger flops;  // executed by this stage (all of it, across resumes)
  FlopsLedger total;  // carried into it + its own
  bool evaluated = false;
  double val_loss = 0, val_ppl = 0, val_accuracy = 0;
  double wall_seconds = 0;  // of the run that finished the stage
  // CPU work outside the model in that run (TLM's BM25 retrieval): reported
  // apart, never as FLOPs; included in wall_seconds.
  double retrieval_seconds = 0;
  std::string final_checkpoint;
  std::string shared_from;  // the folder the stage was linked from (stage_sharing.h)
};

struct RecipeResult {
  std::vector<StageSummary> stages;
  FlopsLedger total;  // every stage's executed FLOPs
  std::string summary_path;
};

RecipeResult run_recipe(const Recipe& recipe, const RecipeRunOptions& options = {});

// summary.json's text.
std::string summary_json(const Recipe& recipe, const RecipeResult& result);

}  // namespace graft::runner
