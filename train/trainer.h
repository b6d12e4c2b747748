// Trainer: one optimizer step at a time over a Model, a Task and AdamW, in
// one process (data parallelism will wrap the gradient reduction in here).
//
// A step runs every micro-batch forward and backward (gradients accumulate,
// each micro-batch's loss weighted by its share of the step's counted
// targets, which is 1/accum when they are equal), takes the global gradient
// norm, clips it, and applies AdamW at the schedule's LR. A step whose loss or
// gradient norm is not finite is skipped: gradients are dropped, parameters
// and moments stay as they were, and after max_nonfinite_steps such steps in a
// row the run stops with a graft::Error naming the steps.
//
// Determinism: dropout seeds are a function of (seed, step, micro-batch)
// through ForwardContext, and masks are drawn by global row (a dp rank's
// first row in the global micro-batch is dp_rank · its rows), so a dp run
// drops what one rank with the global batch drops; graft's own kernels are
// thread-count independent,
// so the same seed and batches give the same loss curve bit for bit. OpenBLAS
// is not: its sgemm sums K differently at 1 and 2 threads. Row shards (below)
// run every GEMM on one thread, so their curve depends on row_shards only.
//
// Row shards (CPU, one process): each micro-batch's rows are split into
// row_shards contiguous shards that train at once, one OpenMP thread each
// (kernels and BLAS single-threaded inside), shard 0 on the model and the
// others on weight-sharing replicas (model/model.h) with their own tapes and
// gradients; the gradients are then summed in shard order. Each shard's loss is
// weighted by its share of the counted targets, as micro-batches are, and has
// its own dropout seed (micro-batch · row_shards + shard). On two cores this
// trains faster than two threads inside every kernel (docs/PERFORMANCE.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "ops/flops.h"
#include "train/batch.h"
#include "train/distributed.h"
#include "train/lr_schedule.h"
#include "train/optimizer.h"
#include "train/task.h"

namespace graft {

struct TrainerOptions {
  LrSchedule schedule;     // schedule.total_steps is the run's length
  AdamWOptions adamw;      // adamw.lr is ignored: the schedule sets it each step
  double clip_norm = 1.0;  // <= 0: no clipping (the norm is still computed)
  uint64_t seed = 0;
  // Glob patterns (model/parameters.h) frozen from the start until
  // unfreeze_step (0: for the whole run); each must match a parameter.
  std::vector<std::string> freeze;
  int64_t unfreeze_step = 0;  // the first step that trains them again
  int64_t max_nonfinite_steps = 5;
  // tp × dp (train/distributed.h): the model must be built with
  // grid.tensor_parallel(); gradients are averaged over dp (started during
  // the last micro-batch's backward), micro-batches hold this rank's rows
  // (rows [dp_rank·b, (dp_rank+1)·b) of the global one, as dp_shard cuts
  // them), and losses, norms, tokens and FLOPs in StepResult are global.
  TrainingGrid grid;
  // Row shards per micro-batch (see above); > 1 needs a CPU model, no tp or
  // dp, and a task without weights of its own.
  int64_t row_shards = 1;
};

struct StepResult {
  int64_t step = 0;      // 1-based
  double loss = 0;       // mean over the step's counted targets
  double grad_norm = 0;  // before clipping
  double lr = 0;
  bool skipped = false;           // non-finite loss or gradient norm: not applied
  int64_t tokens = 0;             // positions processed
  FlopsCounts forward, backward;  // executed by this step (summed over ranks)
  double seconds = 0;             // the slowest rank's
  // Per-rank step times and data-parallel communication (zero with one rank).
  int ranks = 1;
  double seconds_min = 0, seconds_max = 0;
  double dp_comm_seconds = 0, dp_exposed_seconds = 0;
};

struct EvalResult {
  double loss = 0;  // mean NLL per counted target (nats)
  double perplexity = 0;
  double accuracy = 0;  // token accuracy, or classification accuracy
  int64_t count = 0;
  int64_t correct = 0;
  int64_t text_bytes = 0;
  double bits_per_byte = -1;  // negative when the batches carry no byte counts
  FlopsCounts forward;
  double seconds = 0;
};

namespace dist {
class GradientReducer;
}

class Trainer {
 public:
  // Applies options.freeze (InputError when a pattern matches nothing).
  Trainer(Model& model, const Task& task, TrainerOptions options);
  ~Trainer();

  // One optimizer step over these micro-batches (at least one).
  StepResult train_step(const std::vector<Batch>& micro_batches);

  // Forward only, no tape, no dropout.
  EvalResult evaluate(const std::vector<Batch>& batches) const;

  int64_t step() const { return step_; }  // steps completed (skipped included)
  int64_t tokens() const { return tokens_; }
  int64_t skipped_steps() const { return skipped_total_; }
  double train_seconds() const { return train_seconds_; }
  // FLOPs executed by train_step calls (not by evaluation).
  const FlopsLedger& train_flops() const { return train_flops_; }
  const TrainerOptions& options() const { return options_; }
  Model& model() { return model_; }
  AdamW& optimizer() { return optimizer_; }
  const AdamW& optimizer() const { return optimizer_; }

  // Resuming from a checkpoint (parameters and AdamW state restored
  // separately): the counters as they were after `step`, so the schedule,
  // dropout seeds, data cursor and ledgers continue where that run stopped.
  struct ResumeState {
    int64_t step = 0;
    int64_t tokens = 0;
    FlopsLedger train_flops;
    int64_t skipped_steps = 0;
    int64_t nonfinite_run = 0;  // non-finite steps in a row ending at `step`
    int64_t first_nonfinite = 0;
  };
  ResumeState resume_state() const;
  void restore_state(const ResumeState& state);

 private:
  void apply_freezing(int64_t next_step);
  uint64_t dropout_seed(int64_t step, int64_t micro) const;
  // Forward and backward of one micro-batch's row shards at once; returns the
  // weighted sum of their losses and adds their tokens to r.
  double train_row_shards(const Batch& batch, int64_t micro, double total_count,
                          size_t micro_batches, StepResult& r);

  Model& model_;
  const Task& task_;
  TrainerOptions options_;
  AdamW optimizer_;
  int64_t step_ = 0;
  int64_t tokens_ = 0;
  int64_t nonfinite_run_ = 0;
  int64_t first_nonfinite_ = 0;
  int64_t skipped_total_ = 0;
  bool frozen_ = false;
  double train_seconds_ = 0;
  FlopsLedger train_flops_;
  std::vector<std::unique_ptr<Model>> replicas_;    // row shards 1.. (row_shards > 1)
  std::unique_ptr<dist::GradientReducer> reducer_;  // dp > 1
  bool reducer_frozen_ = false;                     // frozen_ when reducer_ was built
};

// What the ledger gained between two readings.
FlopsCounts flops_difference(const FlopsCounts& after, const FlopsCounts& before);

}  // namespace graft
