// The training loop around a Trainer: pulls micro-batches, steps, evaluates
// on a schedule, writes metrics.jsonl and train.log, and drives the progress
// display. Kept apart from Trainer so tests and recipes can step a Trainer by
// hand.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "train/progress.h"
#include "train/run_dir.h"
#include "train/trainer.h"

namespace graft {

// Micro-batch `micro` (0-based) of step `step` (1-based). A pure function of
// its arguments, so a run is reproducible and (later) resumable mid-stream.
using MicroBatchSource = std::function<Batch(int64_t step, int64_t micro)>;

struct LoopOptions {
  int64_t steps = 100;  // train until the trainer has completed this many
  int64_t grad_accum = 1;
  int64_t eval_interval = 0;  // evaluate every this many steps (0: at the end only)
  bool eval_at_start = true;
  int64_t log_interval = 10;    // a metrics.jsonl record every this many steps
  double peak_flops_per_s = 0;  // for MFU; 0: unknown
  // Called after each step once its metrics record is written (checkpoints
  // hang here, so a checkpoint never runs ahead of metrics.jsonl).
  std::function<void(Trainer& trainer, const StepResult& result)> after_step;
  // A stop requested by a signal (train/preemption.h), agreed by every rank
  // at the same step boundary: after that step's after_step, the loop calls
  // this on every rank to save a checkpoint of the trainer's step (returns
  // its path, "" if none), waits until all ranks are there, logs and throws
  // graft::Preempted. A signal during the last step changes nothing.
  std::function<std::string(Trainer& trainer)> save_for_stop;
};

struct LoopResult {
  EvalResult initial;  // count == 0 when not evaluated (no batches or eval_at_start false)
  EvalResult final;
  std::vector<StepResult> steps;  // every step of this call, in order
  double wall_seconds = 0;        // including evaluation
  double train_seconds = 0;       // train steps only: what tokens/s and MFU use
  int64_t tokens = 0;
  int64_t skipped = 0;
  FlopsLedger train_flops;  // executed by this call's train steps

  double tokens_per_second() const { return train_seconds > 0 ? tokens / train_seconds : 0; }
  double model_flops_per_second() const {
    return train_seconds > 0 ? train_flops.model_total() / train_seconds : 0;
  }
};

// run and progress may be null. A non-finite stop (graft::Error from
// Trainer::train_step) is logged to the run folder and rethrown. Under tp or
// dp, every step ends with a small all-gather over the world (each rank's
// pending signal), so that all ranks stop at the same step.
LoopResult run_training(Trainer& trainer, const MicroBatchSource& source,
                        const std::vector<Batch>& valid, const LoopOptions& options,
                        RunDirectory* run = nullptr, ProgressReporter* progress = nullptr);

// "loss 2.1234 | ppl 8.36 | acc 41.2% | 1.234 bits/byte" for messages.
std::string describe_eval(const EvalResult& e);

}  // namespace graft
