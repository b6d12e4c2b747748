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

#include "data/token_store.h"
#include "model/flops.h"
#include "recipes/runner/recipe_file.h"
#include "train/data_source.h"
#include "train/task.h"

namespace graft::runner {

struct TaskHooks {
  std::function<std::unique_ptr<Task>(Model& model, const StageConfig& config)> make_task;
  std::function<TrainingData(const StageConfig& config)> make_data;
  // StageRunOptions::analytic_flops: these tasks price their own steps
  // (recipes/tasks PricedTask), so run_stage's analytic figure matches the
  // ledger for them too.
  std::function<ModelFlops(const Task& task, const Model& model, const Batch& batch)>
      analytic_flops;
  // Seconds make_data spent on CPU work that is no model FLOPs (TLM's
  // retrieval), which the stage summary reports apart.
  std::shared_ptr<double> retrieval_seconds = std::make_shared<double>(0);
};

// Empty hooks unless stage.config.data.objective is rtd, spactor or tlm.
TaskHooks recipe_task_hooks(const RecipeStage& stage);

// TLM's external set S: indices (ascending) of general's documents, by
// task.retrieval over the decoded texts of `examples` (a classification
// store). BM25 indexes general's documents decoded with its own tokenizer;
// "random" draws as many as BM25 picks (the same-size ablation) with seed.
// seconds: wall time of indexing and retrieval.
struct ExternalSet {
  std::vector<int64_t> docs;
  double seconds = 0;
};
ExternalSet tlm_external_set(const TaskOptions& task, const TokenStore& general,
                             const TokenStore& examples, uint64_t seed);
// The documents `docs` of store as a store of their own.
TokenStore subset_store(const TokenStore& store, const std::vector<int64_t>& docs);

// SpacTor's tau for a stage: task.tau, else task.tau_fraction x
// (task.baseline_steps, else training.steps), at least 1.
int64_t stage_tau(const RecipeStage& stage);

}  // namespace graft::runner
