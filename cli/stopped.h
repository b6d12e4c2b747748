// What `graft train`, `recipe run` and `suite run` do when a signal stopped
// the training (train/preemption.h): one line saying where, and the exit
// status kPreemptedExitStatus (75), distinct from failure (1) and bad input
// (2), so that job scripts know to resume (slurm/README.md).
#pragma once

#include <string>

#include "train/preemption.h"

namespace graft::cli {

// Prints "graft <command>: stopped by SIGTERM after step ...; checkpoint
// ...; <how to continue>" to stderr when print (rank 0 only under MPI) and
// returns kPreemptedExitStatus. How to continue: --resume for `train`, the
// same command for the others.
int stopped_by_signal(const std::string& command, const Preempted& stop, bool print = true);

}  // namespace graft::cli
