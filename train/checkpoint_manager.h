// CheckpointManager: the checkpoints of one run folder, named by step
// (ckpt-000100.h5), the newest keep_last kept.
//
// Older checkpoints are deleted only after a new one is committed, so a
// crash or a failed save never leaves the folder with fewer valid
// checkpoints than before. Resuming takes the newest checkpoint that loads
// and verifies; a corrupt newest one (a crash mid-copy, a bad disk) is
// reported as a warning naming it and the previous one is used instead.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "train/checkpoint.h"

namespace graft {

class CheckpointManager {
 public:
  using Warn = std::function<void(const std::string& message)>;

  // keep_last: how many checkpoints to keep (0: all). warn receives the
  // fallback warnings; by default they go to stderr as "warning: ...".
  explicit CheckpointManager(std::string dir, int64_t keep_last = 3, Warn warn = {});

  const std::string& dir() const { return dir_; }
  int64_t keep_last() const { return keep_last_; }
  std::string path_for(int64_t step) const;  // <dir>/ckpt-<step, 6+ digits>.h5

  // Saves contents as path_for(contents.step) (creating the folder), then
  // deletes all but the newest keep_last; returns the path. A failed save
  // throws and deletes nothing.
  std::string save(const CheckpointContents& contents);

  // Committed checkpoint files (temp files ignored), oldest step first.
  std::vector<std::string> list() const;

  // The newest checkpoint that loads and verifies, or nullopt when the
  // folder holds none. When checkpoints exist but none is valid: InputError
  // naming each with its problem (resuming from scratch silently would
  // throw away the run). A newest valid one whose stored step differs from
  // its file name's is an InputError naming it (not skipped: a renamed or
  // copied file is the user's to sort out).
  std::optional<CheckpointContents> load_latest() const;

  // Creates the folder if needed and writes and removes a probe file in it;
  // InputError naming the folder and the reason when that fails (a file in
  // its place, a read-only mount), so a run finds out before training
  // rather than at its first save.
  void check_writable() const;

 private:
  void prune() const;

  std::string dir_;
  int64_t keep_last_;
  Warn warn_;
};

}  // namespace graft
