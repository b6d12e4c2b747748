#include "dist/context.h"

#include <mpi.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "dist/mpi_communicator.h"
#include "dist/single_communicator.h"
#include "dist/watchdog.h"
#include "ops/check.h"
#include "ops/cuda/backend.h"

namespace graft::dist {

namespace {

std::atomic<bool> context_alive{false};

bool mpi_running() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}

// Runs on the watchdog's thread while the main thread is blocked inside MPI
// (hence MPI_THREAD_MULTIPLE). alarm() is the backstop: should MPI_Abort
// itself hang, SIGALRM's default action still ends the process non-zero.
void abort_on_timeout(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::fflush(stderr);
  std::fflush(stdout);
  alarm(10);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);
}

std::string launch_mismatch(const LaunchInfo& launch, int mpi_rank, int mpi_size) {
  std::string message = "the launcher set up " + launch.describe() + ", but MPI sees rank " +
                        std::to_string(mpi_rank) + " of " + std::to_string(mpi_size) + ": ";
  if (launch.launcher == Launcher::slurm) {
    return message + "launch with `srun --mpi=pmix` (`srun --mpi=list` shows what this " +
           "cluster offers)";
  }
  return message + "start every rank with the same mpirun";
}

}  // namespace

DistContext::DistContext(const DistOptions& options) : DistContext(options, detect_launch()) {}

DistContext::DistContext(const DistOptions& options, const LaunchInfo& launch)
    : launch_(launch), timeout_seconds_(options.timeout_seconds) {
  // The grid is checked before MPI starts: a rank count that does not divide
  // is the user's error, reported at once on every rank.
  grid_ = make_grid(launch.size, launch.rank, options.tp, options.dp);
  // One GPU per rank: the node's ranks share its GPUs round-robin (before
  // anything allocates GPU memory).
  if (cuda::available()) cuda::select_device(launch.local_rank % cuda::device_count());
  GRAFT_CHECK(!context_alive.exchange(true), "only one DistContext may exist per process");
  try {
    if (launch_.size > 1) {
      start_mpi();
    } else {
      world_ = std::make_unique<SingleCommunicator>("world");
      tp_ = std::make_unique<SingleCommunicator>("tp");
      dp_ = std::make_unique<SingleCommunicator>("dp");
    }
  } catch (...) {
    context_alive = false;
    throw;
  }
}

void DistContext::start_mpi() {
  if (!mpi_running()) {
    int provided = 0;
    // MULTIPLE: the watchdog thread calls MPI_Abort while the main thread may
    // be inside a collective.
    int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
    GRAFT_CHECK(rc == MPI_SUCCESS,
                "MPI_Init_thread failed with code " << rc << " (" << launch_.describe() << ")");
    owns_mpi_ = true;
  }
  uses_mpi_ = true;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);

  int mpi_rank = 0, mpi_size = 0;
  check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank), "MPI_Comm_rank", "world");
  check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &mpi_size), "MPI_Comm_size", "world");
  // The classic mistake: srun without --mpi=pmix starts N singleton MPI
  // worlds that would each train alone.
  GRAFT_INPUT_CHECK(mpi_rank == launch_.rank && mpi_size == launch_.size,
                    launch_mismatch(launch_, mpi_rank, mpi_size));

  watchdog_ = std::make_shared<Watchdog>(timeout_seconds_, grid_.describe(), abort_on_timeout);
  auto world = std::make_unique<MpiCommunicator>(MPI_COMM_WORLD, "world", watchdog_);
  // Colors pick the group, keys the order inside it: tp groups share a
  // dp_rank and are ordered by tp_rank, dp groups the other way round.
  tp_ = world->split(grid_.dp_rank(), grid_.tp_rank(), "tp");
  dp_ = world->split(grid_.tp_rank(), grid_.dp_rank(), "dp");
  GRAFT_CHECK(tp_->rank() == grid_.tp_rank() && tp_->size() == grid_.tp &&
                  dp_->rank() == grid_.dp_rank() && dp_->size() == grid_.dp,
              "MPI_Comm_split gave groups that do not match " << grid_.describe());
  world_ = std::move(world);
}

DistContext::~DistContext() {
  bool unwinding = std::uncaught_exceptions() > 0;
  tp_.reset();
  dp_.reset();
  world_.reset();
  if (owns_mpi_ && !unwinding && mpi_running()) {
    // Finalize synchronises with the other ranks: a peer that never gets
    // here must not hang this one either.
    Watchdog::Guard guard;
    if (watchdog_) guard = watchdog_->watch("MPI_Finalize");
    MPI_Finalize();
  }
  watchdog_.reset();
  context_alive = false;
}

void abort_job(int status) {
  std::fflush(stdout);
  std::fflush(stderr);
  int size = 1;
  if (mpi_running() && MPI_Comm_size(MPI_COMM_WORLD, &size) == MPI_SUCCESS && size > 1) {
    MPI_Abort(MPI_COMM_WORLD, status);
  }
  std::exit(status);
}

}  // namespace graft::dist
