// Launcher detection: who started this process, and as which rank.
//
// Read from the environment before MPI starts, so that a bad rank count is
// reported before any work (and without MPI when there is one process).
// Open MPI's mpirun sets OMPI_COMM_WORLD_{RANK,SIZE,LOCAL_RANK}; Slurm's srun
// sets SLURM_{PROCID,STEP_NUM_TASKS,LOCALID} in every task of a job step.
// Open MPI's variables win: mpirun inside an sbatch allocation also sees the
// allocation's SLURM_* variables. A batch script itself (no step: no
// SLURM_STEP_ID) counts as one process, not as rank 0 of SLURM_NTASKS.
#pragma once

#include <functional>
#include <string>

namespace graft::dist {

enum class Launcher { single, mpirun, slurm };

const char* launcher_name(Launcher launcher);  // "single process", "mpirun", "srun"

struct LaunchInfo {
  Launcher launcher = Launcher::single;
  int rank = 0;
  int size = 1;
  int local_rank = 0;            // rank among this node's processes (picks the GPU later)
  std::string describe() const;  // "rank 1 of 4 (local 1) under mpirun"
};

// Looks a variable up; nullptr when unset. Tests pass a fake environment.
using EnvLookup = std::function<const char*(const char*)>;

// Throws InputError when a variable is not a number or rank >= size.
LaunchInfo detect_launch(const EnvLookup& env);
LaunchInfo detect_launch();  // the process's environment

}  // namespace graft::dist
