// Launcher detection from mpirun's and srun's environment variables.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "dist/launch.h"
#include "ops/check.h"

namespace graft::dist {
namespace {

using Env = std::map<std::string, std::string>;

LaunchInfo detect(const Env& env) {
  return detect_launch([&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(DistLaunch, NothingSetIsOneProcess) {
  LaunchInfo info = detect({});
  EXPECT_EQ(info.launcher, Launcher::single);
  EXPECT_EQ(info.rank, 0);
  EXPECT_EQ(info.size, 1);
}

TEST(DistLaunch, OpenMpi) {
  LaunchInfo info = detect({{"OMPI_COMM_WORLD_RANK", "3"},
                            {"OMPI_COMM_WORLD_SIZE", "4"},
                            {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}});
  EXPECT_EQ(info.launcher, Launcher::mpirun);
  EXPECT_EQ(info.rank, 3);
  EXPECT_EQ(info.size, 4);
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.describe(), "rank 3 of 4 (local 1) under mpirun");
}

TEST(DistLaunch, SrunStep) {
  LaunchInfo info = detect({{"SLURM_STEP_ID", "0"},
                            {"SLURM_PROCID", "1"},
                            {"SLURM_NTASKS", "8"},
                            {"SLURM_STEP_NUM_TASKS", "2"},
                            {"SLURM_LOCALID", "1"}});
  EXPECT_EQ(info.launcher, Launcher::slurm);
  EXPECT_EQ(info.rank, 1);
  EXPECT_EQ(info.size, 2);  // the step's tasks, not the allocation's
  EXPECT_EQ(info.local_rank, 1);
}

TEST(DistLaunch, BatchScriptWithoutStepIsOneProcess) {
  LaunchInfo info = detect({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}, {"SLURM_JOB_ID", "7"}});
  EXPECT_EQ(info.launcher, Launcher::single);
  EXPECT_EQ(info.size, 1);
}

TEST(DistLaunch, MpirunInsideAnAllocationWins) {
  LaunchInfo info = detect({{"SLURM_STEP_ID", "0"},
                            {"SLURM_PROCID", "0"},
                            {"SLURM_NTASKS", "1"},
                            {"OMPI_COMM_WORLD_RANK", "2"},
                            {"OMPI_COMM_WORLD_SIZE", "4"}});
  EXPECT_EQ(info.launcher, Launcher::mpirun);
  EXPECT_EQ(info.rank, 2);
  EXPECT_EQ(info.size, 4);
}

TEST(DistLaunch, GarbageIsAnInputError) {
  EXPECT_THROW(detect({{"OMPI_COMM_WORLD_RANK", "x"}, {"OMPI_COMM_WORLD_SIZE", "4"}}), InputError);
  EXPECT_THROW(detect({{"OMPI_COMM_WORLD_RANK", "4"}, {"OMPI_COMM_WORLD_SIZE", "4"}}), InputError);
  EXPECT_THROW(detect({{"OMPI_COMM_WORLD_RANK", "0"}}), InputError);
  try {
    detect({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "two"}});
    FAIL();
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(),
                 "environment variable OMPI_COMM_WORLD_SIZE='two' is not a rank or rank count");
  }
}

}  // namespace
}  // namespace graft::dist
