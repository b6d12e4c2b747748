// Stage sharing: a stage that another run already trained with exactly the
// same inputs is taken from it instead of trained again.
//
// Training is deterministic (same config, seed, data and initial model: the
// same bits), so two recipes that both start with, say, the same MLM encoder
// from scratch would compute the same checkpoint twice. The suite's runs do
// exactly that (baseline-mlm, sequential, baseline-mlm-finetune and
// warm-start each begin with one), so the harness keeps an index of finished
// stages by their identity and links a match into the new stage's folder.
// The recipe still counts the stage's FLOPs and wall time (the cost of
// producing that model is the recipe's, whoever paid it first); summary.json
// names the folder it came from.
//
// A stage's identity is the text of everything that decides its bits: the
// resolved config without run.dir, the init and the identities of the stages
// it reads, the recipe task options, the FLOPs carried into it (they are in
// its checkpoints), the size and modification time of every data file, and
// the device's numerics (ops/numerics.h: graft's CPU numerics version, or the
// GPU model), so a stage is never shared across a change of what decides its
// bits.
// The index stores the identity text, not just its hash, and a lookup
// compares the text, so a hash collision cannot share a wrong stage.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ops/flops.h"
#include "recipes/runner/recipe_file.h"

namespace graft::runner {

std::string stage_identity(const RecipeStage& stage,
                           const std::vector<std::string>& source_identities,
                           const FlopsLedger& carried);

class StageIndex {
 public:
  explicit StageIndex(std::string dir);  // created on the first record
  // The folder of a finished stage with this identity that still holds its
  // final checkpoint (steps), if there is one.
  std::optional<std::string> find(const std::string& identity, int64_t steps) const;
  // Records that stage_dir holds the finished stage (atomic: temp + rename).
  void record(const std::string& identity, const std::string& stage_dir) const;

 private:
  std::string entry_path(const std::string& identity) const;
  std::string dir_;
};

// Fills target_dir (which holds no checkpoint) from the finished stage in
// source_dir: checkpoints hard-linked (copied across file systems; they are
// replaced, never rewritten, so a link is safe), metrics.jsonl, train.log and
// stage.toml copied (a later resume with more steps appends to them),
// config_toml written as target's own config, and a `shared-from` file
// naming source_dir.
void link_finished_stage(const std::string& source_dir, const std::string& target_dir,
                         const std::string& config_toml);

// The folder named by target_dir/shared-from; empty when the stage trained
// there itself.
std::string shared_from(const std::string& stage_dir);

}  // namespace graft::runner
