// Runs one training stage end to end from a StageConfig: run folder, data,
// model, task, measured peak, Trainer, loop. `graft train` and `graft
// quickstart` are thin layers over this.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "model/flops.h"
#include "model/model.h"
#include "train/data_source.h"
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
};

struct StageRun {
  StageConfig config;
  std::unique_ptr<Model> model;
  std::unique_ptr<Task> task;
  TrainingData data;
  PeakMeasurement peak;
  LoopResult loop;
  // The analytic (model/flops.h) training FLOPs of the batches this run
  // trained on, every parameter trainable: what the ledger must equal exactly
  // when nothing is frozen.
  ModelFlops analytic;
};

// source names the config in messages (a file name, or "quickstart").
StageRun run_stage(const StageConfig& config, const std::string& source,
                   const StageRunOptions& options = {});

}  // namespace graft
