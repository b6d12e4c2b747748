// Runs one training stage end to end from a StageConfig: run folder, data,
// model, task, measured peak, Trainer, loop. `graft train` and `graft
// quickstart` are thin layers over this.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "model/flops.h"
#include "model/model.h"
#include "train/data_source.h"
#include "train/distributed.h"
#include "train/loop.h"
#include "train/peak.h"
#include "train/stage_config.h"

namespace graft {

struct StageRunOptions {
  std::string label = "train";      // progress prefix
  std::FILE* progress = stderr;     // progress display (null: none)
  double progress_interval_s = 10;  // plain-line interval when not a terminal
  std::FILE* info = stdout;         // "what is being run" lines (null: none)
  bool measure_peak = true;         // false: MFU is "unknown"
  // A peak measured already (e.g. once per recipe, so every stage's MFU has
  // the same denominator and no stage pays for measuring again); used
  // instead of measuring when flops_per_second > 0.
  PeakMeasurement known_peak;
  // This process's place in a tp × dp run (train/distributed.h; from
  // training_grid(DistContext)). Only rank 0 prints, measures the peak and
  // writes the run folder; every micro-batch is the global one's dp slice.
  TrainingGrid grid;

  // The recipes' init hook: builds the stage's starting model (a warm start
  // from an earlier stage, a transform). Null: random init from config.
  std::function<std::unique_ptr<Model>(const ModelConfig& config, uint64_t seed)> initial_model;
  // FLOPs of earlier stages; stored in this stage's checkpoints as the
  // carried ledger. On resume the checkpoint's carried ledger is used.
  FlopsLedger carried_flops;
  // Continue from the newest valid checkpoint in <run.dir>/checkpoints (its
  // parameters override initial_model's); with none there, start afresh.
  // Without it, a run folder that already holds checkpoints is an
  // InputError, unless overwrite.
  bool resume = false;
  // A fresh run deletes the folder's old checkpoints instead of refusing
  // (graft quickstart, whose folder is a scratch one).
  bool overwrite = false;
  // Called after every step, once its metrics and checkpoint are written.
  std::function<void(int64_t step)> after_step;
  // Objectives whose Task lives above train/ (RTD, SpacTor, TLM: the recipe
  // runner, recipes/runner/tasks.h). make_task runs once the model exists and
  // before the Trainer (a generator registers its parameters in the model);
  // make_data then gives the batches. Null: make_task / make_training_data.
  std::function<std::unique_ptr<Task>(Model& model, const StageConfig& config)> make_task;
  std::function<TrainingData(const StageConfig& config)> make_data;
  // Tasks that price their own step (recipes/tasks PricedTask: a generator
  // that the config does not describe, heads that do not run) give
  // StageRun::analytic here. Asked for every trained micro-batch, after the
  // loop, with that batch drawn again: a task whose step changes over the
  // stage (SpacTor's switch, TLM's interleaving) is priced step by step.
  // Null: training_step_flops(config, task.shape(first batch)) per micro-batch.
  std::function<ModelFlops(const Task& task, const Model& model, const Batch& batch)>
      analytic_flops;
};

struct StageRun {
  StageConfig config;
  std::unique_ptr<Model> model;
  std::unique_ptr<Task> task;
  TrainingData data;
  PeakMeasurement peak;
  LoopResult loop;               // this call's steps (after the checkpoint when resumed)
  int64_t resumed_from = -1;     // the checkpoint step resumed from; -1: a fresh start
  std::string final_checkpoint;  // written at the end of the stage
  FlopsLedger total_flops;       // carried + this stage's (all of it, across resumes)
  // The analytic (model/flops.h) training FLOPs of the batches this run
  // trained on, every parameter trainable: what the ledger must equal exactly
  // when nothing is frozen.
  ModelFlops analytic;
};

// source names the config in messages (a file name, or "quickstart").
StageRun run_stage(const StageConfig& config, const std::string& source,
                   const StageRunOptions& options = {});

}  // namespace graft
