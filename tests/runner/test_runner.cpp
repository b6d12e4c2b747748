// The stage runner end to end on tiny real-text stores built here
// (recipes/tiny-data: a few hundred fortune lines): a completed stage is
// skipped, a run SIGKILLed between or inside stages resumes to bit-equal
// final parameters, the carried FLOPs are the sum of the stage ledgers, and
// every tiny recipe runs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <thread>

#include "recipes/runner/runner.h"
#include "recipes/runner/tasks.h"
#include "recipes/tasks/bm25_index.h"
#include "train/checkpoint.h"
#include "train/checkpoint_manager.h"
#include "train/stage.h"

namespace graft::runner {
namespace {

namespace fs = std::filesystem;

const std::string kRoot = (fs::temp_directory_path() / "graft-runner-test").string();
const std::string kStores = kRoot + "/stores";
const std::string kRecipes = std::string(GRAFT_SOURCE_DIR) + "/recipes/tiny/";

class Runner : public ::testing::Test {
 protected:
  // ctest runs each test case as its own process, two at a time: the first
  // to take the lock builds the stores, the others wait and reuse them.
  static void SetUpTestSuite() {
    fs::create_directories(kRoot);
    const int lock = ::open((kRoot + "/stores.lock").c_str(), O_CREAT | O_RDWR, 0644);
    ASSERT_GE(lock, 0) << "cannot open " << kRoot << "/stores.lock";
    ASSERT_EQ(::flock(lock, LOCK_EX), 0);
    int status = 0;
    const std::string command =
        std::string(GRAFT_SOURCE_DIR) + "/recipes/tiny-data " + GRAFT_EXE + " " + kStores;
    // A stamp written after success, so a build killed halfway is redone.
    const std::string stamp = kStores + "/.complete";
    if (!fs::exists(stamp)) {
      status = std::system(command.c_str());
      if (status == 0) std::ofstream(stamp) << "ok\n";
    }
    ::flock(lock, LOCK_UN);
    ::close(lock);
    ASSERT_EQ(status, 0) << command;
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

// Starts args[0] with args, stdout and stderr to log; returns its pid.
pid_t spawn(std::vector<std::string> args, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::freopen(log.c_str(), "w", stdout);
    ::dup2(::fileno(stdout), 2);
    std::vector<char*> argv;
    for (std::string& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
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
  const pid_t pid = spawn(args, "/dev/null");
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

// The sgemm peak is measured once per recipe run, on the first stage that
// trains, so every stage's MFU has the same denominator.
TEST_F(Runner, StagesShareOnePeakMeasurement) {
  const std::string dir = fresh("one-peak");
  const Recipe recipe = load("sequential", dir, {"training.steps=2"});
  RecipeRunOptions options = quiet();
  options.measure_peak = true;
  run_recipe(recipe, options);
  std::vector<std::string> peaks;
  for (const RecipeStage& stage : recipe.stages) {
    std::ifstream log(dir + "/" + stage.name + "/train.log");
    ASSERT_TRUE(log) << stage.name;
    std::string line, found;
    int count = 0;
    while (std::getline(log, line)) {
      const auto at = line.find("measured peak: ");
      if (at != std::string::npos) {
        found = line.substr(at);
        ++count;
      }
    }
    EXPECT_EQ(count, 1) << stage.name;
    peaks.push_back(found);
  }
  ASSERT_EQ(peaks.size(), 3u);
  EXPECT_FALSE(peaks[0].empty());
  EXPECT_EQ(peaks[1], peaks[0]);
  EXPECT_EQ(peaks[2], peaks[0]);
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

// SIGTERM inside a stage (train/preemption.h): `graft recipe run` writes a
// checkpoint at the next step boundary and exits with status 75; the same
// command then finishes the recipe, bit-equal to an uninterrupted run.
TEST_F(Runner, SigtermInsideAStageCheckpointsExits75AndResumesBitEqual) {
  const std::vector<std::string> sets = {"checkpoint.interval=4"};
  const std::string reference = fresh("ref-term");
  run_graft("sequential", reference, "", sets);
  const std::string stopped = fresh("term");
  std::vector<std::string> args = {GRAFT_EXE,   "recipe", "run",   kRecipes + "sequential.toml",
                                   "--run-dir", stopped,  "--set", "recipe.stores=" + kStores,
                                   "--set",     sets[0]};
  const std::string log = kRoot + "/runs/term.log";
  const pid_t pid = spawn(args, log);
  // Once stage 2 has its step-4 checkpoint, it is mid-way (10 steps).
  const std::string mid = stopped + "/seq2seq/checkpoints/ckpt-000004.h5";
  int status = 0;
  while (!fs::exists(mid)) {
    ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) << "graft ended before the signal";
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  kill(pid, SIGTERM);
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  std::ifstream in(log);
  const std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 75) << output;
  EXPECT_NE(output.find("stopped by SIGTERM after step"), std::string::npos) << output;
  EXPECT_FALSE(fs::exists(stopped + "/encoder/checkpoints")) << "the next stage started";
  const CheckpointContents last =
      load_checkpoint(CheckpointManager(stopped + "/seq2seq/checkpoints").list().back());
  EXPECT_GT(last.step, 4);
  EXPECT_LT(last.step, 10) << "the signal came too late to test a stop";
  run_graft("sequential", stopped, "", sets);
  for (const std::string& stage :
       {"mlm/checkpoints/ckpt-000010.h5", "seq2seq/checkpoints/ckpt-000010.h5",
        "encoder/checkpoints/ckpt-000004.h5"}) {
    SCOPED_TRACE(stage);
    expect_bit_equal(reference + "/" + stage, stopped + "/" + stage);
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
                                           "tlm", "warm-start", "warm-start-schemes"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// S is the union of every task example's top-K documents, a real subset of
// the corpus at the tiny file's K; the ablation draws as many at random.
TEST_F(Runner, TlmExternalSetIsTheBm25UnionAndRandomDiffers) {
  const Recipe recipe = load("tlm", fresh("tlm-retrieval"));
  const RecipeStage& stage = recipe.stages[0];
  const TokenStore general = TokenStore::load(stage.config.data.train);
  const TokenStore examples = TokenStore::load(stage.task.task_train);
  const ExternalSet bm25 = tlm_external_set(stage.task, general, examples, 7);

  // The union computed here from the index directly.
  recipe_tasks::Bm25Index index;
  const Tokenizer tokenizer = general.tokenizer();
  auto text = [](const Tokenizer& t, std::span<const int32_t> ids) {
    return t.decode(std::vector<int32_t>(ids.begin(), ids.end()));
  };
  for (int64_t i = 0; i < general.num_documents(); ++i)
    index.add(text(tokenizer, general.document(i)));
  std::set<int64_t> expected;
  recipe_tasks::RetrievalOptions o;
  o.k = stage.task.retrieval_k;
  for (int64_t i = 0; i < examples.num_documents(); ++i) {
    const std::string query =
        recipe_tasks::tlm_query(text(examples.tokenizer(), examples.document(i)), o);
    for (const recipe_tasks::Bm25Hit& h : index.search(query, o.k))
      expected.insert(h.doc);
  }
  EXPECT_EQ(bm25.docs, std::vector<int64_t>(expected.begin(), expected.end()));
  EXPECT_LT(bm25.docs.size(), static_cast<size_t>(general.num_documents()));
  EXPECT_GT(bm25.seconds, 0);

  TaskOptions random_task = stage.task;
  random_task.retrieval = "random";
  const ExternalSet random = tlm_external_set(random_task, general, examples, 7);
  EXPECT_EQ(random.docs.size(), bm25.docs.size());
  EXPECT_NE(random.docs, bm25.docs);
  EXPECT_TRUE(std::is_sorted(random.docs.begin(), random.docs.end()));
  EXPECT_EQ(std::set<int64_t>(random.docs.begin(), random.docs.end()).size(), random.docs.size());

  const TokenStore s = subset_store(general, bm25.docs);
  ASSERT_EQ(s.num_documents(), static_cast<int64_t>(bm25.docs.size()));
  const auto first = general.document(bm25.docs[0]);
  EXPECT_TRUE(std::equal(first.begin(), first.end(), s.document(0).begin(), s.document(0).end()));

  // The runner reports the retrieval apart from the FLOPs.
  const RecipeResult r = run_recipe(recipe, quiet());
  EXPECT_GT(r.stages[0].retrieval_seconds, 0);
  EXPECT_EQ(r.stages[1].retrieval_seconds, 0);
  std::ifstream in(recipe.run_dir + "/summary.json");
  std::stringstream json;
  json << in.rdbuf();
  EXPECT_NE(json.str().find("\"retrieval_seconds\""), std::string::npos);
}

// run_stage's analytic FLOPs for the tasks that price their own steps (a
// generator the config does not describe, TLM's two kinds of batch, the
// SpacTor switch inside the stage) equal the executed ledger exactly.
TEST_F(Runner, AnalyticFlopsMatchTheLedgerForPricedTasks) {
  // RTD: baseline-mlm's encoder with the ELECTRA objective (no tiny file trains it alone).
  const std::vector<std::string> rtd = {"mlm.data.objective=\"rtd\"",
                                        "mlm.model.heads=[\"mlm\", \"rtd\"]"};
  for (const char* name : {"baseline-mlm", "spactor", "tlm"}) {
    SCOPED_TRACE(name);
    const std::string file = name;
    const Recipe recipe = load(file, fresh("analytic-" + file),
                               file == "baseline-mlm" ? rtd : std::vector<std::string>{});
    const RecipeStage& stage = recipe.stages[0];
    const TaskHooks hooks = recipe_task_hooks(stage);
    ASSERT_TRUE(hooks.analytic_flops);
    StageRunOptions o;
    o.info = nullptr;
    o.progress = nullptr;
    o.measure_peak = false;
    o.make_task = hooks.make_task;
    o.make_data = hooks.make_data;
    o.analytic_flops = hooks.analytic_flops;
    const StageRun r = run_stage(stage.config, name, o);
    const FlopsLedger& ledger = r.loop.train_flops;
    EXPECT_GT(r.analytic.total(), 0);
    EXPECT_DOUBLE_EQ(r.analytic.total(), ledger.model_total());
    EXPECT_DOUBLE_EQ(r.analytic.forward.matmul, ledger.forward().matmul);
    EXPECT_DOUBLE_EQ(r.analytic.backward.attention, ledger.backward().attention);
  }
}

}  // namespace
}  // namespace graft::runner
