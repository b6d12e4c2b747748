#include "dist/launch.h"

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "ops/check.h"

namespace graft::dist {

const char* launcher_name(Launcher launcher) {
  switch (launcher) {
    case Launcher::single:
      return "single process";
    case Launcher::mpirun:
      return "mpirun";
    case Launcher::slurm:
      return "srun";
  }
  return "?";
}

std::string LaunchInfo::describe() const {
  std::ostringstream out;
  out << "rank " << rank << " of " << size << " (local " << local_rank << ") under "
      << launcher_name(launcher);
  return out.str();
}

namespace {

// A launcher variable must be a plain non-negative integer: anything else
// means a broken launch, better named than misread as 0.
int parse_count(const char* name, const char* value) {
  char* end = nullptr;
  errno = 0;
  long parsed = std::strtol(value, &end, 10);
  GRAFT_INPUT_CHECK(
      end != value && *end == '\0' && errno == 0 && parsed >= 0 && parsed < (1L << 30),
      "environment variable " << name << "='" << value << "' is not a rank or rank count");
  return static_cast<int>(parsed);
}

LaunchInfo from_variables(const EnvLookup& env, Launcher launcher, const char* rank_var,
                          const char* size_var, const char* local_var) {
  const char* rank = env(rank_var);
  const char* size = env(size_var);
  GRAFT_INPUT_CHECK(rank && size, launcher_name(launcher)
                                      << " environment incomplete: " << rank_var << " and "
                                      << size_var << " must both be set");
  LaunchInfo info;
  info.launcher = launcher;
  info.rank = parse_count(rank_var, rank);
  info.size = parse_count(size_var, size);
  const char* local = env(local_var);
  info.local_rank = local ? parse_count(local_var, local) : 0;
  GRAFT_INPUT_CHECK(info.size >= 1 && info.rank < info.size,
                    size_var << "=" << info.size << " and " << rank_var << "=" << info.rank
                             << " do not describe a rank of the job");
  return info;
}

}  // namespace

LaunchInfo detect_launch(const EnvLookup& env) {
  if (env("OMPI_COMM_WORLD_SIZE") || env("OMPI_COMM_WORLD_RANK")) {
    return from_variables(env, Launcher::mpirun, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
                          "OMPI_COMM_WORLD_LOCAL_RANK");
  }
  // SLURM_STEP_ID marks a task of an srun step; without it this is a batch
  // script, where SLURM_NTASKS is the allocation's size, not this process's world.
  if (env("SLURM_STEP_ID") && env("SLURM_PROCID")) {
    const char* size_var = env("SLURM_STEP_NUM_TASKS") ? "SLURM_STEP_NUM_TASKS" : "SLURM_NTASKS";
    return from_variables(env, Launcher::slurm, "SLURM_PROCID", size_var, "SLURM_LOCALID");
  }
  return LaunchInfo{};
}

LaunchInfo detect_launch() {
  return detect_launch([](const char* name) -> const char* { return std::getenv(name); });
}

}  // namespace graft::dist
