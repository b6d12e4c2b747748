// The objectives whose Task lives above train/ (recipes/tasks): data.objective
// = "rtd" (ELECTRA), "spactor" (SpacTor hybrid for tau steps, then plain span
// corruption, in one stage with one optimizer and LR schedule) and "tlm"
// (TLM's joint loss). The runner hands these to run_stage through
// StageRunOptions::make_task / make_data; every other objective returns
// empty hooks (train/data_source.h builds it).
//
// Batches stay pure functions of (step, micro): loader batch
// micro_index(step, micro) of the store, objective seed from (training.seed,
// that index); SpacTor's switch is the step itself.
#pragma once

#include <functional>
#include <memory>

#include "recipes/runner/recipe_file.h"
#include "train/data_source.h"
#include "train/task.h"

namespace graft::runner {

struct TaskHooks {
  std::function<std::unique_ptr<Task>(Model& model, const StageConfig& config)> make_task;
  std::function<TrainingData(const StageConfig& config)> make_data;
};

// Empty hooks unless stage.config.data.objective is rtd, spactor or tlm.
TaskHooks recipe_task_hooks(const RecipeStage& stage);

// SpacTor's tau for a stage: task.tau, else task.tau_fraction x
// (task.baseline_steps, else training.steps), at least 1.
int64_t stage_tau(const RecipeStage& stage);

}  // namespace graft::runner
