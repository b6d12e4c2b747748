// Stage identities (recipes/runner/stage_sharing.h) name what decides a
// stage's bits besides its inputs: graft's numerics on the stage's device.
#include <gtest/gtest.h>

#include <string>

#include "ops/numerics.h"
#include "recipes/runner/stage_sharing.h"

namespace graft {
namespace {

TEST(StageIdentity, NamesTheCpuNumericsVersion) {
  runner::RecipeStage stage;
  stage.name = "mlm";
  stage.config.model_device = Device::cpu;
  const std::string identity = runner::stage_identity(stage, {}, FlopsLedger());
  const std::string line = "[numerics] " + numerics_identity(Device::cpu) + "\n";
  EXPECT_NE(identity.find(line), std::string::npos) << identity;
  EXPECT_NE(line.find("v" + std::to_string(kCpuNumericsVersion)), std::string::npos) << line;
}

TEST(StageIdentity, RunFolderIsNotPartOfIt) {
  runner::RecipeStage a, b;
  a.config.run.dir = "runs/x/mlm";
  b.config.run.dir = "runs/y/mlm";
  EXPECT_EQ(runner::stage_identity(a, {}, FlopsLedger()),
            runner::stage_identity(b, {}, FlopsLedger()));
  b.config.training.seed = a.config.training.seed + 1;
  EXPECT_NE(runner::stage_identity(a, {}, FlopsLedger()),
            runner::stage_identity(b, {}, FlopsLedger()));
}

}  // namespace
}  // namespace graft
