// Recipe files: defaults merging, overrides, and InputErrors that name the
// file, the stage and the key.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ops/check.h"
#include "recipes/runner/recipe_file.h"

namespace graft::runner {
namespace {

namespace fs = std::filesystem;

const char* kGood = R"(
[recipe]
name = "demo"
stores = "/stores"

[defaults.training]
steps = 7
seq_len = 32
[defaults.data]
source = "store"
train = "{stores}/en/train.h5"
valid = "{stores}/en/valid.h5"

[[stage]]
name = "mlm"
[stage.model]
kind = "encoder"
encoder_layers = 2
[stage.data]
objective = "mlm"

[[stage]]
name = "s2s"
init = "bert2rnd"
from = "mlm"
[stage.model]
kind = "encoder_decoder"
encoder_layers = 2
decoder_layers = 2
[stage.training]
steps = 5
[stage.data]
objective = "span_corruption"
)";

// One folder per process and test: ctest runs test cases as parallel
// processes, which must not read each other's half-written files.
std::string write(const std::string& name, const std::string& text) {
  const fs::path dir =
      fs::temp_directory_path() / ("graft-recipe-file-test-" + std::to_string(::getpid()) + "-" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  const std::string path = write("bad.toml", text);
  try {
    load_recipe(path, overrides);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(RecipeFile, DefaultsMergeIntoEveryStageAndStagesWin) {
  const Recipe r = load_recipe(write("good.toml", kGood));
  ASSERT_EQ(r.stages.size(), 2u);
  EXPECT_EQ(r.name, "demo");
  EXPECT_EQ(r.run_dir, "runs/demo");
  EXPECT_EQ(r.stages[0].config.training.steps, 7);
  EXPECT_EQ(r.stages[1].config.training.steps, 5);
  EXPECT_EQ(r.stages[1].config.training.seq_len, 32);
  EXPECT_EQ(r.stages[0].config.data.train, "/stores/en/train.h5");
  EXPECT_EQ(r.stages[1].init, InitKind::bert2rnd);
  EXPECT_EQ(r.stages[1].from, std::vector<std::string>{"mlm"});
  EXPECT_EQ(r.stages[1].config.run.dir, "runs/demo/s2s");
}

TEST(RecipeFile, OverridesReachAllStagesOrOne) {
  const Recipe r = load_recipe(
      write("good.toml", kGood),
      {"training.batch_size=3", "s2s.training.steps=2", "recipe.stores=/elsewhere"}, "/tmp/x");
  EXPECT_EQ(r.stages[0].config.training.batch_size, 3);
  EXPECT_EQ(r.stages[1].config.training.batch_size, 3);
  EXPECT_EQ(r.stages[0].config.training.steps, 7);
  EXPECT_EQ(r.stages[1].config.training.steps, 2);
  EXPECT_EQ(r.stages[1].config.data.valid, "/elsewhere/en/valid.h5");
  EXPECT_EQ(r.stages[1].config.run.dir, "/tmp/x/s2s");
}

TEST(RecipeFile, UnknownKeyInAStageNamesStageKeyAndFile) {
  const std::string e = error_of(replace(kGood, "steps = 5", "steps = 5\nwarmup = 3"));
  EXPECT_NE(e.find("bad.toml:"), std::string::npos) << e;
  EXPECT_NE(e.find("training.warmup"), std::string::npos) << e;
  EXPECT_NE(e.find("stage 's2s'"), std::string::npos) << e;
}

TEST(RecipeFile, UnknownKeyInDefaultsNamesTheLine) {
  const std::string e = error_of(replace(kGood, "seq_len = 32", "seq_len = 32\nbogus = 1"));
  EXPECT_NE(e.find("bad.toml:9"), std::string::npos) << e;
  EXPECT_NE(e.find("training.bogus"), std::string::npos) << e;
}

TEST(RecipeFile, UnknownStageKeyAndWrongType) {
  std::string e = error_of(replace(kGood, "init = \"bert2rnd\"", "init = \"bert2rnd\"\nmodle = 1"));
  EXPECT_NE(e.find("stage 's2s'"), std::string::npos) << e;
  EXPECT_NE(e.find("'modle'"), std::string::npos) << e;
  e = error_of(replace(kGood, "steps = 5", "steps = \"five\""));
  EXPECT_NE(e.find("training.steps"), std::string::npos) << e;
  EXPECT_NE(e.find("expected an integer"), std::string::npos) << e;
  EXPECT_NE(e.find("stage 's2s'"), std::string::npos) << e;
}

TEST(RecipeFile, UnknownInit) {
  const std::string e = error_of(replace(kGood, "\"bert2rnd\"", "\"bert2bart\""));
  EXPECT_NE(e.find("bad.toml:"), std::string::npos) << e;
  EXPECT_NE(e.find("stage 's2s'"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown init 'bert2bart'"), std::string::npos) << e;
}

TEST(RecipeFile, TransformReferencingAMissingOrLaterStage) {
  std::string e = error_of(replace(kGood, "from = \"mlm\"", "from = \"bert\""));
  EXPECT_NE(e.find("stage 's2s'"), std::string::npos) << e;
  EXPECT_NE(e.find("no stage 'bert'"), std::string::npos) << e;
  e = error_of(replace(kGood, "from = \"mlm\"", "from = \"s2s\""));
  EXPECT_NE(e.find("does not run before it"), std::string::npos) << e;
  e = error_of(replace(kGood, "from = \"mlm\"", ""));
  EXPECT_NE(e.find("reads 1 earlier stage"), std::string::npos) << e;
}

TEST(RecipeFile, BadOverrideAndTaskKey) {
  EXPECT_NE(error_of(kGood, {"nostage.training.steps=1"}).find("neither a section"),
            std::string::npos);
  const std::string e =
      error_of(replace(kGood, "[stage.training]\nsteps = 5", "[stage.task]\ntua = 3"));
  EXPECT_NE(e.find("task.tua"), std::string::npos) << e;
  EXPECT_NE(e.find("stage 's2s'"), std::string::npos) << e;
}

// base and large cannot run here (one GPU, a Slurm cluster): parsing is
// what keeps them from rotting.
TEST(RecipeFile, EveryShippedRecipeParses) {
  for (const char* scale : {"tiny", "small", "base", "large"}) {
    int files = 0;
    for (const auto& entry :
         fs::directory_iterator(std::string(GRAFT_SOURCE_DIR) + "/recipes/" + scale)) {
      if (entry.path().extension() != ".toml") continue;
      ++files;
      EXPECT_NO_THROW(load_recipe(entry.path().string())) << entry.path();
    }
    EXPECT_GE(files, 9) << scale;  // the four baselines and the five recipes
  }
}

}  // namespace
}  // namespace graft::runner
