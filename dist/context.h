// DistContext: the process grid, its communicators and MPI's lifetime.
//
// Construct one per process, first thing in main. It reads the launcher's
// environment (dist/launch.h), checks that the world factors as dp × tp
// (InputError before any work otherwise), and when the world has more than
// one rank starts MPI, builds the world, tp and dp communicators and arms the
// collective watchdog. With one process it starts nothing and hands out
// single-process communicators.
#pragma once

#include <memory>

#include "dist/communicator.h"
#include "dist/grid.h"
#include "dist/launch.h"

namespace graft::dist {

struct DistOptions {
  int tp = 1;  // tensor-parallel ranks per replica
  int dp = 0;  // data-parallel replicas; 0: world size / tp
  // A collective that has not completed after this long aborts the job
  // (a rank died or hangs). <= 0 disables the watchdog.
  double timeout_seconds = 300;
};

class Watchdog;

class DistContext {
 public:
  explicit DistContext(const DistOptions& options);
  DistContext(const DistOptions& options, const LaunchInfo& launch);  // tests
  // Frees the communicators and finalizes MPI. While an exception unwinds it
  // skips MPI_Finalize (peers may be stuck in a collective); call abort_job.
  ~DistContext();
  DistContext(const DistContext&) = delete;
  DistContext& operator=(const DistContext&) = delete;

  const LaunchInfo& launch() const { return launch_; }
  const ProcessGrid& grid() const { return grid_; }
  bool uses_mpi() const { return uses_mpi_; }
  double timeout_seconds() const { return timeout_seconds_; }

  Communicator& world() { return *world_; }
  Communicator& tp() { return *tp_; }  // this rank's tensor-parallel group
  Communicator& dp() { return *dp_; }  // this rank's data-parallel group

 private:
  void start_mpi();

  LaunchInfo launch_;
  ProcessGrid grid_;
  double timeout_seconds_ = 0;
  bool uses_mpi_ = false;
  bool owns_mpi_ = false;  // false when someone else had initialized MPI
  std::shared_ptr<Watchdog> watchdog_;
  std::unique_ptr<Communicator> world_, tp_, dp_;
};

// Ends this process with status, and the whole job with it: when MPI runs
// with more than one rank, MPI_Abort, so that peers waiting in a collective
// are killed now rather than when their watchdog fires. Call it from main's
// error handler after printing the error.
[[noreturn]] void abort_job(int status);

}  // namespace graft::dist
