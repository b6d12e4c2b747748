// The stage runner end to end on tiny real-text stores built here
// (recipes/tiny-data: a few hundred fortune lines): a completed stage is
// skipped, a run SIGKILLed between or inside stages resumes to bit-equal
// final parameters, the carried FLOPs are the sum of the stage ledgers, and
// every tiny recipe runs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "recipes/runner/runner.h"
#include "train/checkpoint.h"

namespace graft::runner {
namespace {

namespace fs = std::filesystem;

const std::string kRoot = (fs::temp_directory_path() / "graft-runner-test").string();
const std::string kStores = kRoot + "/stores";
const std::string kRecipes = std::string(GRAFT_SOURCE_DIR) + "/recipes/tiny/";

class Runner : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (fs::exists(kStores + "/cls/valid.h5")) return;
    fs::create_directories(kRoot);
    const std::string command =
        std::string(GRAFT_SOURCE_DIR) + "/recipes/tiny-data " + GRAFT_EXE + " " + kStores;
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }

  static Recipe load(const std::string& name, const std::string& run_dir,
                     std::vector<std::string> overrides = {}) {
    overrides.push_back("recipe.stores=" + kStores);
    return load_recipe(kRecipes + name + ".toml", overrides, run_dir);
  }

  static RecipeRunOptions quiet() {
    RecipeRunOptions o;
    o.info = nullptr;
    o.progress = nullptr;
    o.measure_peak = false;
    return o;
  }
};

std::string fresh(const std::string& name) {
  const std::string dir = kRoot + "/runs/" + name;
  fs::remove_all(dir);
  fs::create_directories(kRoot + "/runs");
  return dir;
}

// Every parameter byte for byte.
void expect_bit_equal(const std::string& a, const std::string& b) {
  const CheckpointContents x = load_checkpoint(a), y = load_checkpoint(b);
  ASSERT_EQ(x.parameters.size(), y.parameters.size());
  for (size_t i = 0; i < x.parameters.size(); ++i) {
    const Tensor& p = x.parameters[i].tensor;
    const Tensor& q = y.parameters[i].tensor;
    ASSERT_EQ(x.parameters[i].name, y.parameters[i].name);
    ASSERT_EQ(p.numel(), q.numel());
    EXPECT_EQ(std::memcmp(p.data<float>(), q.data<float>(), p.numel() * sizeof(float)), 0)
        << x.parameters[i].name;
  }
  EXPECT_EQ(x.step, y.step);
  EXPECT_EQ(x.flops.model_total(), y.flops.model_total());
  EXPECT_EQ(x.carried_flops.model_total(), y.carried_flops.model_total());
}

// Starts `graft recipe run`, SIGKILLs it once `file` exists (or lets it end
// when file is empty); returns whether it was killed.
bool run_graft(const std::string& recipe, const std::string& run_dir, const std::string& file,
               const std::vector<std::string>& sets = {}) {
  std::vector<std::string> args = {GRAFT_EXE,   "recipe", "run",   kRecipes + recipe + ".toml",
                                   "--run-dir", run_dir,  "--set", "recipe.stores=" + kStores};
  for (const std::string& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  const pid_t pid = fork();
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    std::vector<char*> argv;
    for (std::string& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  bool killed = false;
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      if (killed) {
        EXPECT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
      } else {
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "graft exited abnormally";
      }
      return killed;
    }
    if (!file.empty() && !killed && fs::exists(file)) {
      kill(pid, SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

TEST_F(Runner, CompletedStagesAreSkippedAndFlopsAreCarried) {
  const std::string dir = fresh("sequential");
  const Recipe recipe = load("sequential", dir);
  const RecipeResult first = run_recipe(recipe, quiet());
  ASSERT_EQ(first.stages.size(), 3u);
  FlopsLedger sum;
  for (const StageSummary& s : first.stages) {
    EXPECT_FALSE(s.skipped);
    EXPECT_EQ(s.steps, recipe.stages[recipe.index_of(s.name)].config.training.steps);
    EXPECT_GT(s.flops.model_total(), 0);
    sum.merge(s.flops);
    EXPECT_EQ(s.total.model_total(), sum.model_total()) << s.name;
    // Each checkpoint carries exactly the stages before it.
    const CheckpointContents c = load_checkpoint(s.final_checkpoint);
    EXPECT_EQ(c.total_flops().model_total(), s.total.model_total()) << s.name;
    EXPECT_EQ(c.total_flops().forward().matmul, s.total.forward().matmul) << s.name;
  }
  EXPECT_EQ(first.total.model_total(), sum.model_total());
  // The frozen encoder half costs forward only: less backward than forward x 2.
  EXPECT_LT(first.stages[1].flops.backward().model(), 2 * first.stages[1].flops.forward().model());

  const auto metrics_size = fs::file_size(dir + "/mlm/metrics.jsonl");
  const RecipeResult second = run_recipe(recipe, quiet());
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(second.stages[i].skipped);
    EXPECT_EQ(second.stages[i].final_checkpoint, first.stages[i].final_checkpoint);
    EXPECT_EQ(second.stages[i].flops.model_total(), first.stages[i].flops.model_total());
    EXPECT_EQ(second.stages[i].val_loss, first.stages[i].val_loss);
  }
  EXPECT_EQ(second.total.model_total(), first.total.model_total());
  EXPECT_EQ(fs::file_size(dir + "/mlm/metrics.jsonl"), metrics_size);  // no step ran
  std::ifstream in(dir + "/summary.json");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("\"skipped\": true"), std::string::npos);
  EXPECT_NE(text.str().find("\"carried_total\""), std::string::npos);
}

TEST_F(Runner, KilledBetweenAndInsideStagesResumesBitEqual) {
  const std::vector<std::string> sets = {"checkpoint.interval=2"};
  const std::string reference = fresh("ref");
  run_graft("sequential", reference, "", sets);
  // Inside stage 2 (after its step-4 checkpoint), then right after stage 1.
  const std::string inside = fresh("inside");
  EXPECT_TRUE(
      run_graft("sequential", inside, inside + "/seq2seq/checkpoints/ckpt-000004.h5", sets));
  EXPECT_FALSE(fs::exists(inside + "/encoder"));
  run_graft("sequential", inside, "", sets);
  const std::string between = fresh("between");
  EXPECT_TRUE(run_graft("sequential", between, between + "/mlm/stage.toml", sets));
  run_graft("sequential", between, "", sets);
  for (const std::string& stage :
       {"mlm/checkpoints/ckpt-000010.h5", "seq2seq/checkpoints/ckpt-000010.h5",
        "encoder/checkpoints/ckpt-000004.h5"}) {
    SCOPED_TRACE(stage);
    expect_bit_equal(reference + "/" + stage, inside + "/" + stage);
    expect_bit_equal(reference + "/" + stage, between + "/" + stage);
  }
}

// The "under mpirun with 2 ranks": every stage as dp = 2 (rank 0
// writes; the others wait for its checkpoints between stages).
TEST_F(Runner, SequentialUnderMpirunWithTwoRanks) {
  if (std::system("command -v mpirun > /dev/null 2>&1") != 0) GTEST_SKIP() << "no mpirun";
  const std::string dir = fresh("mpi");
  const std::string command = std::string("mpirun --allow-run-as-root --oversubscribe -np 2 ") +
                              GRAFT_EXE + " recipe run " + kRecipes + "sequential.toml --run-dir " +
                              dir + " --set recipe.stores=" + kStores + " --dp 2 > " + dir +
                              ".log 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const CheckpointContents c = load_checkpoint(dir + "/encoder/checkpoints/ckpt-000004.h5");
  EXPECT_EQ(c.step, 4);
  EXPECT_GT(c.carried_flops.model_total(), 0);
  EXPECT_TRUE(fs::exists(dir + "/summary.json"));
}

class TinyRecipe : public Runner, public ::testing::WithParamInterface<const char*> {};

TEST_P(TinyRecipe, RunsEndToEnd) {
  const std::string name = GetParam();
  const Recipe recipe = load(name, fresh("tiny-" + name));
  const RecipeResult r = run_recipe(recipe, quiet());
  ASSERT_EQ(r.stages.size(), recipe.stages.size());
  for (const StageSummary& s : r.stages) {
    EXPECT_TRUE(fs::exists(s.final_checkpoint)) << s.name;
    EXPECT_TRUE(s.evaluated) << s.name;
    EXPECT_TRUE(std::isfinite(s.val_loss)) << s.name;
  }
  EXPECT_TRUE(fs::exists(recipe.run_dir + "/summary.json"));
}

INSTANTIATE_TEST_SUITE_P(Recipes, TinyRecipe,
                         ::testing::Values("baseline-mlm", "baseline-clm", "baseline-sc",
                                           "baseline-rnd2rnd", "sequential", "spactor", "clp",
                                           "tlm", "warm-start"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace graft::runner
