// `graft suite run --jobs N`: the suite's seeds split over N worker
// processes that train side by side.
//
// Seeds never share a stage (the seed is part of every stage's identity), so
// each worker runs its seeds' recipes in the usual order with no waiting on
// the others. On a small CPU this buys throughput, not just overlap: two
// one-thread processes train ~1.2x the tokens/s of one two-thread process at
// the `small` scale (docs/PERFORMANCE.md), because a small model's GEMMs and
// element-wise kernels split poorly over threads. A run is bit-identical to
// itself at the same thread count; across thread counts graft's own kernels
// agree (fixed-chunk reductions), but OpenBLAS's sgemm does not for every
// shape (the decoder weight gradients of span corruption differ in the last
// bits between 1 and 2 threads), so a worker's numbers can differ from those
// of one process on every core (docs/RESULTS.md measures by how much);
// training.row_shards (train/trainer.h) is the thread-count-independent mode.
// tests/savings/tiny_suite.sh checks the whole tiny table both ways, at sizes
// where OpenBLAS runs one thread regardless.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace graft::cli {

struct SuiteWorker {
  std::vector<int64_t> seeds;
  std::vector<std::string> args;  // after the executable: "suite" "run" ...
  std::string log;                // its stdout and stderr
  int exit_status = -1;           // filled by run_suite_workers
};

// "0,2": how workers are named and how --worker-seeds takes them.
std::string seed_label(const std::vector<int64_t>& seeds);

// The seeds in round-robin groups, at most jobs of them, none empty.
std::vector<std::vector<int64_t>> split_seeds(const std::vector<int64_t>& seeds, int jobs);

// Starts every worker (this executable, threads OpenMP/BLAS threads each),
// echoes each line its log gains to stdout prefixed with "[seed ...] ", and
// returns when all have exited, exit statuses filled in (128 + signal for a
// killed one). A SIGTERM / SIGUSR1 this process receives meanwhile
// (train/preemption.h) is sent on to the running workers, which checkpoint
// and exit with kPreemptedExitStatus. Throws when a worker cannot be started.
void run_suite_workers(std::vector<SuiteWorker>& workers, int threads);

}  // namespace graft::cli
