// A stage's checkpoints and resume: what run_stage saves every
// checkpoint.interval steps and at the end, and how `graft train --resume`
// picks the run up again so that every later step's loss is the same, bit
// for bit, as in a run that was never interrupted.
//
// Why the step is enough: the MicroBatchSource is a pure function of (step,
// micro-batch), dropout seeds are a function of (seed, step, micro-batch) and
// the LR schedule of the step, so parameters + AdamW state + the trainer's
// counters are the whole state of a run. loader_state records
// [training.seed, step, skipped steps, non-finite steps in a row, first of
// them] (kLoaderStateSize values) so a resume can check it is continuing the
// same stream and restore the trainer's non-finite bookkeeping.
//
// metrics.jsonl is continued, not rewritten: records after the checkpoint's
// step (written before the process died, after its last checkpoint) are
// dropped, then the resumed run appends; the file then reads as if the run
// had never stopped.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ops/flops.h"
#include "train/checkpoint.h"
#include "train/checkpoint_manager.h"
#include "train/stage_config.h"
#include "train/trainer.h"

namespace graft {

inline constexpr size_t kLoaderStateSize = 5;

// <run_dir>/checkpoints
std::string checkpoint_dir(const std::string& run_dir);

// Keys that may change between a checkpoint's config and the resuming one:
// the run's length and how often it logs, evaluates and saves, and where the
// run folder is. Anything else would make the continuation a different run.
const std::vector<std::string>& resume_mutable_keys();

// InputError naming the first differing key ("optimizer.lr: the checkpoint
// has 0.003, the config has 0.001") and the checkpoint file.
void check_resume_config(const std::string& checkpoint_config_toml, const StageConfig& config,
                         const std::string& checkpoint_path);

std::vector<int64_t> make_loader_state(uint64_t seed, const Trainer::ResumeState& state);
// The trainer's counters from a checkpoint; InputError naming the file when
// loader_state does not belong to this seed and step.
Trainer::ResumeState resume_state_from(const CheckpointContents& contents, uint64_t seed);

// Rewrites metrics.jsonl (through a temp file and a rename) without the
// records whose step is after `step`, and without a torn last line. A
// missing file is left missing.
void truncate_metrics_after(const std::string& metrics_path, int64_t step);

// Saves a stage's checkpoints through a CheckpointManager.
class StageCheckpointer {
 public:
  using Log = std::function<void(const std::string& line)>;

  // config_toml: the resolved config stored in every checkpoint. carried:
  // FLOPs of earlier stages. log receives "checkpoint ..." lines and warnings.
  StageCheckpointer(CheckpointManager& manager, const StageConfig& config, std::string config_toml,
                    FlopsLedger carried, Log log);

  // Whether step is a checkpoint step: every interval steps, and the last.
  bool due(int64_t step) const;

  // Saves the trainer's state as of its current step; returns the path. A
  // non-finite parameter or moment is never written: an interval
  // checkpoint is then skipped with a warning (the previous ones stay), the
  // final one is a graft::Error.
  std::optional<std::string> save(Trainer& trainer);

  const std::string& last_saved() const { return last_saved_; }

  std::string tokenizer;  // Tokenizer::serialized() to store; empty: none (byte tokens)

 private:
  CheckpointManager& manager_;
  int64_t interval_;
  int64_t steps_;
  uint64_t seed_;
  std::string config_toml_;
  FlopsLedger carried_;
  Log log_;
  std::string last_saved_;
};

}  // namespace graft
