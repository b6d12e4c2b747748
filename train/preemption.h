// Stopping cleanly when a cluster asks: SIGTERM (Slurm's time limit and
// preemption, `kill`) or SIGUSR1 (`sbatch --signal=USR1@T`, and what mpirun
// forwards to its ranks) makes `graft train`, `graft recipe run` and `graft
// suite run` save a checkpoint at the next step boundary and exit with
// kPreemptedExitStatus; `--resume` (a recipe or suite: the same command)
// then continues bit for bit.
//
// The handler only records the signal (async-signal-safe); the training loop
// (train/loop.h) polls preemption_signal() at each step boundary. Under
// mpirun / srun the ranks agree on the step first (an all-gather of each
// rank's flag, every step; the first rank's signal wins), because a signal reaches ranks at
// different times and a rank that stopped alone would leave its peers blocked in the next step's
// collectives.
#pragma once

#include <cstdint>
#include <string>

#include "ops/check.h"

namespace graft {

// 75 is EX_TEMPFAIL (sysexits.h): "try again later". Neither success (the
// stage is not done) nor failure (1) or bad input (2): a job script resumes
// or requeues on it (slurm/*.sbatch).
inline constexpr int kPreemptedExitStatus = 75;

// sigaction(SIGTERM) and sigaction(SIGUSR1), SA_RESTART, with a handler that
// stores the signal number in a lock-free atomic and nothing else. Before
// this the signals keep their default action (termination).
void install_preemption_handlers();

// The last signal recorded since start (or clear_preemption), 0 if none.
int preemption_signal();

// Tests, and a parent forwarding its workers' stop: record sig as if it had
// been delivered; forget it.
void request_preemption(int sig);
void clear_preemption();

// "SIGTERM", "SIGUSR1", or "signal N".
std::string signal_name(int sig);

// Thrown by the training loop once the stop's checkpoint is written (on every
// rank, after they all have it): unwinds the stage, recipe and suite, and
// the CLI turns it into kPreemptedExitStatus. Not a failure: callers that
// catch errors to go on with other work (graft suite run) rethrow it.
class Preempted : public Error {
 public:
  Preempted(int signal, int64_t step, int64_t total_steps, std::string checkpoint);
  int signal() const { return signal_; }
  int64_t step() const { return step_; }
  const std::string& checkpoint() const { return checkpoint_; }

 private:
  int signal_;
  int64_t step_;
  std::string checkpoint_;
};

}  // namespace graft
