// Checkpoints and resume in run_stage / graft train: a run killed mid-way
// and resumed logs the same loss at every later step, bit for bit, as one
// never stopped; corrupt newest checkpoints are skipped with a warning;
// keep_last; carried FLOPs; the recipes' initial_model hook; refused resumes.
#include <gtest/gtest.h>
#include <omp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "train/checkpoint.h"
#include "train/checkpoint_manager.h"
#include "train/checkpointing.h"
#include "train/preemption.h"
#include "train/stage.h"
#include "train/stage_config.h"

#include "tests/support/files_and_errors.h"
namespace graft {
namespace {

using testing::read_text;
using testing::write_text;

namespace fs = std::filesystem;

// A per-test scratch folder with a small synthetic corpus in fortune format
// (entries separated by "%" lines), so the test needs no installed package.
class Resume : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() /
            ("graft-resume-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "corpus");
    const char* words[] = {"the",   "model", "learns", "a",    "small", "text",  "about",
                           "cats",  "and",   "dogs",   "when", "it",    "rains", "slowly",
                           "every", "day",   "we",     "read", "books", "of",    "graft"};
    uint64_t state = 12345;
    std::string text;
    for (int entry = 0; entry < 400; ++entry) {
      const int length = 6 + entry % 11;
      for (int w = 0; w < length; ++w) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        text += words[(state >> 33) % (sizeof(words) / sizeof(words[0]))];
        text += w + 1 < length ? " " : ".\n";
      }
      text += "%\n";
    }
    write_text(root_ / "corpus" / "synthetic", text);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(root_);
  }

  std::string config_text(const std::string& run, int64_t steps, int64_t interval,
                          int64_t keep_last = 0) const {
    return "[model]\nkind = \"decoder\"\nvocab_size = 259\nd_model = 32\nnum_heads = 2\n"
           "d_ff = 64\ndecoder_layers = 2\nmax_positions = 32\ndropout = 0.1\n"
           "[optimizer]\nlr = 3e-3\nmin_lr = 3e-4\nwarmup_steps = 3\nschedule = \"cosine\"\n"
           "[training]\nsteps = " +
           std::to_string(steps) +
           "\nbatch_size = 4\nseq_len = 32\nseed = 5\neval_interval = 6\n"
           "eval_batches = 2\nlog_interval = 1\n"
           "[data]\nsource = \"fortunes\"\ndir = \"" +
           (root_ / "corpus").string() + "\"\nvalid_fraction = 0.1\n[run]\ndir = \"" +
           (root_ / run).string() + "\"\n[checkpoint]\ninterval = " + std::to_string(interval) +
           "\nkeep_last = " + std::to_string(keep_last) + "\n";
  }
  StageConfig config(const std::string& run, int64_t steps, int64_t interval,
                     int64_t keep_last = 0) const {
    return stage_config_from_toml_text(config_text(run, steps, interval, keep_last), "test.toml");
  }
  static StageRunOptions quiet() {
    StageRunOptions o;
    o.progress = nullptr;
    o.info = nullptr;
    o.measure_peak = false;
    return o;
  }
  std::string run_dir(const std::string& run) const { return (root_ / run).string(); }

  fs::path root_;
};

struct Crash : std::runtime_error {
  Crash() : std::runtime_error("simulated crash") {}
};

struct Record {
  int64_t step;
  std::string loss;      // %.17g of the parsed value; "" when absent
  std::string val_loss;  // likewise
};

std::string field(const std::string& line, const std::string& key) {
  const std::string needle = "\"" + key + "\": ";
  const size_t at = line.find(needle);
  if (at == std::string::npos) return "";
  const size_t begin = at + needle.size();
  const size_t end = line.find_first_of(",}", begin);
  const std::string raw = line.substr(begin, end - begin);
  if (raw == "null") return raw;
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%.17g", std::strtod(raw.c_str(), nullptr));
  return buffer;
}

std::vector<Record> metrics(const std::string& run) {
  std::vector<Record> records;
  std::ifstream in(fs::path(run) / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    records.push_back(
        {std::stoll(field(line, "step")), field(line, "loss"), field(line, "val_loss")});
  }
  return records;
}

// Same records (steps in order, losses and validation losses to the last bit).
void expect_same_metrics(const std::string& expected_run, const std::string& actual_run) {
  const std::vector<Record> want = metrics(expected_run), got = metrics(actual_run);
  ASSERT_GT(want.size(), 2u);
  ASSERT_EQ(want.size(), got.size()) << actual_run << "/metrics.jsonl";
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(want[i].step, got[i].step) << "record " << i;
    EXPECT_EQ(want[i].loss, got[i].loss) << "step " << want[i].step;
    EXPECT_EQ(want[i].val_loss, got[i].val_loss) << "step " << want[i].step;
  }
}

// The stage dies (an exception out of run_stage) right after step's
// metrics and checkpoint are written, as a killed process would.
StageRunOptions crashing_at(StageRunOptions options, int64_t step) {
  options.after_step = [step](int64_t s) {
    if (s == step) throw Crash();
  };
  return options;
}

// training.row_shards through the whole stage: one thread and two give the
// same curve, and a crash and resume on two threads continues it bit for bit.
TEST_F(Resume, RowShardedStageIsThreadCountIndependentAcrossACrash) {
  const int saved = omp_get_max_threads();
  auto sharded = [&](const std::string& run) {
    return stage_config_from_toml_text(config_text(run, 10, 4), "test.toml",
                                       {"training.row_shards=2"});
  };
  omp_set_num_threads(1);
  const StageRun one = run_stage(sharded("one"), "test.toml", quiet());
  EXPECT_EQ(one.config.training.row_shards, 2);
  omp_set_num_threads(2);
  EXPECT_THROW(run_stage(sharded("two"), "test.toml", crashing_at(quiet(), 6)), Crash);
  StageRunOptions resume = quiet();
  resume.resume = true;
  const StageRun resumed = run_stage(sharded("two"), "test.toml", resume);
  omp_set_num_threads(saved);
  EXPECT_EQ(resumed.resumed_from, 4);
  expect_same_metrics(run_dir("one"), run_dir("two"));
  // And the shards are real: the unsharded stage draws other dropout masks.
  run_stage(config("unsharded", 10, 4), "test.toml", quiet());
  EXPECT_NE(metrics(run_dir("one")).back().loss, metrics(run_dir("unsharded")).back().loss);
}

TEST_F(Resume, AfterACrashGivesTheSameLossAtEveryLaterStepBitForBit) {
  const StageRun reference = run_stage(config("ref", 12, 4), "test.toml", quiet());
  ASSERT_EQ(reference.loop.steps.size(), 12u);

  const StageConfig c = config("crashed", 12, 4);
  EXPECT_THROW(run_stage(c, "test.toml", crashing_at(quiet(), 7)), Crash);
  // Steps 5..7 reached metrics.jsonl but not a checkpoint: resuming must
  // drop and redo them rather than log them twice.
  ASSERT_EQ(metrics(run_dir("crashed")).back().step, 7);
  ASSERT_EQ(CheckpointManager(checkpoint_dir(run_dir("crashed"))).list().size(), 1u);

  StageRunOptions resume = quiet();
  resume.resume = true;
  // A warm start the checkpoint must override.
  resume.initial_model = [](const ModelConfig& m, uint64_t) { return make_model(m, 4242); };
  const StageRun resumed = run_stage(c, "test.toml", resume);
  EXPECT_EQ(resumed.resumed_from, 4);
  ASSERT_EQ(resumed.loop.steps.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(resumed.loop.steps[i].step, reference.loop.steps[i + 4].step);
    EXPECT_EQ(resumed.loop.steps[i].loss, reference.loop.steps[i + 4].loss)
        << "step " << resumed.loop.steps[i].step;
    EXPECT_EQ(resumed.loop.steps[i].grad_norm, reference.loop.steps[i + 4].grad_norm);
  }
  expect_same_metrics(run_dir("ref"), run_dir("crashed"));
  const auto& a = reference.model->parameters().entries();
  const auto& b = resumed.model->parameters().entries();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(0, std::memcmp(a[i].tensor.raw_data(), b[i].tensor.raw_data(), a[i].tensor.bytes()))
        << a[i].name;
  }
  EXPECT_EQ(resumed.final_checkpoint,
            CheckpointManager(checkpoint_dir(run_dir("crashed"))).path_for(12));
  const CheckpointContents last = load_checkpoint(resumed.final_checkpoint);
  EXPECT_EQ(last.step, 12);
  EXPECT_EQ(last.tokens, reference.loop.tokens);
  EXPECT_EQ(last.flops.model_total(), reference.loop.train_flops.model_total());
  EXPECT_EQ(last.loader_state, (std::vector<int64_t>{5, 12, 0, 0, 0}));
  EXPECT_EQ(last.config, stage_config_to_string(c));
}

// A stop signal (train/preemption.h) is acted on at the next step boundary:
// that step's checkpoint is written (unless the interval just wrote it),
// graft::Preempted says where, and --resume continues bit for bit.
TEST_F(Resume, AStopSignalCheckpointsAtTheNextStepAndResumesBitForBit) {
  run_stage(config("ref", 12, 4), "test.toml", quiet());
  StageRunOptions resume = quiet();
  resume.resume = true;
  // Asked during step 6 (its after_step): stops after step 7, off the
  // interval; during step 7: stops after step 8, the interval's own.
  for (const int64_t asked : {6, 7}) {
    const std::string run = "stopped-" + std::to_string(asked);
    const StageConfig c = config(run, 12, 4);
    StageRunOptions o = quiet();
    o.after_step = [asked](int64_t step) {
      if (step == asked) request_preemption(SIGTERM);
    };
    const CheckpointManager manager(checkpoint_dir(run_dir(run)));
    try {
      run_stage(c, "test.toml", o);
      clear_preemption();
      ADD_FAILURE() << "the stage ran to the end";
      continue;
    } catch (const Preempted& e) {
      clear_preemption();
      EXPECT_EQ(e.signal(), SIGTERM);
      EXPECT_EQ(e.step(), asked + 1);
      EXPECT_EQ(e.checkpoint(), manager.path_for(asked + 1));
      EXPECT_NE(std::string(e.what()).find("stopped by SIGTERM after step " +
                                           std::to_string(asked + 1) + " of 12"),
                std::string::npos)
          << e.what();
    }
    EXPECT_EQ(manager.list().back(), manager.path_for(asked + 1));
    const std::string log = read_text(fs::path(run_dir(run)) / "train.log");
    EXPECT_NE(log.find("stopped by SIGTERM"), std::string::npos) << log;
    const StageRun resumed = run_stage(c, "test.toml", resume);
    EXPECT_EQ(resumed.resumed_from, asked + 1);
    expect_same_metrics(run_dir("ref"), run_dir(run));
  }
  // A signal during the last step changes nothing: the stage is complete.
  StageRunOptions o = quiet();
  o.after_step = [](int64_t step) {
    if (step == 11) request_preemption(SIGUSR1);
  };
  EXPECT_NO_THROW(run_stage(config("last", 12, 4), "test.toml", o));
  clear_preemption();
  expect_same_metrics(run_dir("ref"), run_dir("last"));
}

#ifdef GRAFT_EXE
// Starts `graft train` with args, stdout and stderr to log; returns its pid.
pid_t spawn_graft(const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::FILE* out = std::freopen(log.c_str(), "w", stdout);
    if (out) ::dup2(::fileno(stdout), 2);
    std::vector<char*> argv;
    std::string exe = GRAFT_EXE;
    argv.push_back(exe.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

TEST_F(Resume, GraftTrainKilledWithSigkillAndResumedMatchesAnUninterruptedRun) {
  const int64_t steps = 32;
  run_stage(config("ref", steps, 4), "test.toml", quiet());
  const fs::path cfg = root_ / "killed.toml";
  write_text(cfg, config_text("killed", steps, 4, 2));
  const CheckpointManager manager(checkpoint_dir(run_dir("killed")));

  const pid_t pid = spawn_graft({"train", "--config", cfg.string()}, root_ / "killed.log");
  ASSERT_GT(pid, 0);
  // Kill it as soon as its second checkpoint is committed: mid-run, with
  // metrics possibly ahead of the checkpoint.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(manager.path_for(8)) && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      FAIL() << "graft train ended before it could be killed (status " << status << "):\n"
             << read_text(root_ / "killed.log");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "not killed mid-run:\n"
      << read_text(root_ / "killed.log");
  const std::vector<std::string> left = manager.list();
  ASSERT_FALSE(left.empty());
  ASSERT_NE(left.back(), manager.path_for(steps)) << "the run had finished before the kill";

  const pid_t again =
      spawn_graft({"train", "--config", cfg.string(), "--resume"}, root_ / "resumed.log");
  ASSERT_EQ(::waitpid(again, &status, 0), again);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_text(root_ / "resumed.log");
  EXPECT_NE(read_text(root_ / "resumed.log").find("resuming from"), std::string::npos);
  expect_same_metrics(run_dir("ref"), run_dir("killed"));
  // keep_last = 2 held through the kill and the resume.
  EXPECT_EQ(manager.list(),
            (std::vector<std::string>{manager.path_for(steps - 4), manager.path_for(steps)}));
}
#endif

void truncate_file(const std::string& path) {
  const std::string bytes = read_text(path);
  write_text(path, bytes.substr(0, bytes.size() / 2));
}

// Flips a bit inside the stored values of the checkpoint's largest parameter.
void flip_bit_in_parameter(const std::string& path) {
  const CheckpointContents c = load_checkpoint(path);
  const Tensor* largest = nullptr;
  for (const NamedParameter& p : c.parameters)
    if (!largest || p.tensor.numel() > largest->numel()) largest = &p.tensor;
  std::string bytes = read_text(path);
  const std::string needle(static_cast<const char*>(largest->raw_data()), 64);
  const size_t at = bytes.find(needle);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 32] ^= 0x04;
  write_text(path, bytes);
}

TEST_F(Resume, CorruptNewestCheckpointIsSkippedWithAWarningAndThePreviousOneUsed) {
  run_stage(config("ref", 8, 2), "test.toml", quiet());
  const StageConfig c = config("run", 8, 2);
  run_stage(c, "test.toml", quiet());
  const CheckpointManager manager(checkpoint_dir(run_dir("run")));
  ASSERT_EQ(manager.list().size(), 4u);  // keep_last = 0 keeps all
  StageRunOptions resume = quiet();
  resume.resume = true;

  for (const auto damage : {&truncate_file, &flip_bit_in_parameter}) {
    const std::string newest = manager.path_for(8), previous = manager.path_for(6);
    damage(newest);
    ASSERT_THROW(load_checkpoint(newest), InputError);
    const StageRun r = run_stage(c, "test.toml", resume);
    EXPECT_EQ(r.resumed_from, 6);
    EXPECT_EQ(r.loop.steps.size(), 2u);
    const std::string log = read_text(fs::path(run_dir("run")) / "train.log");
    EXPECT_NE(log.find("warning: checkpoint " + newest + " is not usable"), std::string::npos)
        << log;
    EXPECT_NE(log.find("falling back to " + previous), std::string::npos) << log;
    EXPECT_NO_THROW(load_checkpoint(newest));  // rewritten by the resumed run
    expect_same_metrics(run_dir("ref"), run_dir("run"));
  }
}

TEST_F(Resume, NoValidCheckpointIsAnErrorThatLeavesMetricsAlone) {
  const StageConfig c = config("run", 4, 2);
  run_stage(c, "test.toml", quiet());
  const std::string before = read_text(fs::path(run_dir("run")) / "metrics.jsonl");
  for (const std::string& path : CheckpointManager(checkpoint_dir(run_dir("run"))).list())
    truncate_file(path);
  StageRunOptions resume = quiet();
  resume.resume = true;
  EXPECT_THROW(run_stage(c, "test.toml", resume), InputError);
  EXPECT_EQ(read_text(fs::path(run_dir("run")) / "metrics.jsonl"), before);
}

TEST_F(Resume, KeepLastIsHonoured) {
  const StageRun r = run_stage(config("run", 10, 2, 2), "test.toml", quiet());
  const CheckpointManager manager(checkpoint_dir(run_dir("run")));
  EXPECT_EQ(manager.list(), (std::vector<std::string>{manager.path_for(8), manager.path_for(10)}));
  EXPECT_EQ(r.final_checkpoint, manager.path_for(10));
  // interval 0: only the final step.
  run_stage(config("end-only", 5, 0, 3), "test.toml", quiet());
  const CheckpointManager end_only(checkpoint_dir(run_dir("end-only")));
  EXPECT_EQ(end_only.list(), (std::vector<std::string>{end_only.path_for(5)}));
}

TEST_F(Resume, CarriedFlopsArePreservedAcrossResumeAndAddedIntoTheTotal) {
  FlopsLedger carried;
  carried.add(Phase::forward, FlopsKind::matmul, 1.5e12);
  carried.add(Phase::backward, FlopsKind::attention, 3.25e9);
  StageRunOptions options = quiet();
  options.carried_flops = carried;
  const StageRun reference = run_stage(config("ref", 8, 3), "test.toml", options);
  EXPECT_EQ(reference.total_flops.forward().matmul,
            carried.forward().matmul + reference.loop.train_flops.forward().matmul);
  EXPECT_EQ(reference.total_flops.backward().attention,
            carried.backward().attention + reference.loop.train_flops.backward().attention);
  ASSERT_GT(reference.loop.train_flops.model_total(), 0);

  const StageConfig c = config("run", 8, 3);
  EXPECT_THROW(run_stage(c, "test.toml", crashing_at(options, 4)), Crash);
  StageRunOptions resume = quiet();  // no carried ledger given: the checkpoint's is used
  resume.resume = true;
  const StageRun resumed = run_stage(c, "test.toml", resume);
  EXPECT_EQ(resumed.resumed_from, 3);
  for (const Phase phase : {Phase::forward, Phase::backward}) {
    const FlopsCounts& want = phase == Phase::forward ? reference.total_flops.forward()
                                                      : reference.total_flops.backward();
    const FlopsCounts& got =
        phase == Phase::forward ? resumed.total_flops.forward() : resumed.total_flops.backward();
    EXPECT_EQ(want.matmul, got.matmul);
    EXPECT_EQ(want.attention, got.attention);
    EXPECT_EQ(want.other, got.other);
  }
  const CheckpointContents last = load_checkpoint(resumed.final_checkpoint);
  EXPECT_EQ(last.carried_flops.forward().matmul, 1.5e12);
  EXPECT_EQ(last.carried_flops.backward().attention, 3.25e9);
  EXPECT_EQ(last.total_flops().model_total(), reference.total_flops.model_total());
}

TEST_F(Resume, InitialModelHookIsUsed) {
  const StageConfig c = config("random", 1, 0);
  const StageRun random = run_stage(c, "test.toml", quiet());
  StageRunOptions hooked = quiet();
  std::vector<uint64_t> seeds;
  hooked.initial_model = [&seeds](const ModelConfig& m, uint64_t seed) {
    seeds.push_back(seed);
    return make_model(m, 99);
  };
  const StageRun warm = run_stage(config("warm", 1, 0), "test.toml", hooked);
  EXPECT_EQ(seeds, std::vector<uint64_t>{5});
  ASSERT_GT(warm.loop.initial.count, 0);
  EXPECT_NE(warm.loop.initial.loss, random.loop.initial.loss);
  EXPECT_NE(warm.loop.steps[0].loss, random.loop.steps[0].loss);
  // The same as evaluating that model directly.
  std::unique_ptr<Model> direct = make_model(c.model, 99);
  const Trainer trainer(*direct, *warm.task, TrainerOptions());
  const EvalResult e = trainer.evaluate(warm.data.valid);
  EXPECT_EQ(e.loss, warm.loop.initial.loss);
  EXPECT_EQ(e.count, warm.loop.initial.count);
}

TEST_F(Resume, ConfigMismatchIsAnInputErrorNamingTheKey) {
  const StageConfig c = config("run", 6, 3);
  EXPECT_THROW(run_stage(c, "test.toml", crashing_at(quiet(), 4)), Crash);
  const std::string metrics_before = read_text(fs::path(run_dir("run")) / "metrics.jsonl");
  StageRunOptions resume = quiet();
  resume.resume = true;
  StageConfig other = c;
  other.optimizer.lr = 1e-3;
  try {
    run_stage(other, "test.toml", resume);
    FAIL() << "a different lr was accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("optimizer.lr"), std::string::npos) << message;
    EXPECT_NE(message.find("ckpt-000003.h5"), std::string::npos) << message;
  }
  other = c;
  other.model.d_ff = 128;
  try {
    run_stage(other, "test.toml", resume);
    FAIL() << "a different d_ff was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model.d_ff"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_text(fs::path(run_dir("run")) / "metrics.jsonl"), metrics_before);
  // The run's length and intervals may change.
  other = c;
  other.training.steps = 7;
  other.checkpoint.interval = 2;
  other.training.log_interval = 2;
  const StageRun r = run_stage(other, "test.toml", resume);
  EXPECT_EQ(r.resumed_from, 3);
  EXPECT_EQ(r.loop.steps.size(), 4u);
}

TEST_F(Resume, AFreshRunIntoAFolderWithCheckpointsIsRefused) {
  const StageConfig c = config("run", 3, 0);
  run_stage(c, "test.toml", quiet());
  const std::string before = read_text(fs::path(run_dir("run")) / "metrics.jsonl");
  try {
    run_stage(c, "test.toml", quiet());
    FAIL() << "old checkpoints would have been mixed with the new run's";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_text(fs::path(run_dir("run")) / "metrics.jsonl"), before);
  StageRunOptions overwrite = quiet();
  overwrite.overwrite = true;
  EXPECT_NO_THROW(run_stage(c, "test.toml", overwrite));
  // Resuming a finished run trains nothing more.
  StageRunOptions resume = quiet();
  resume.resume = true;
  const StageRun done = run_stage(c, "test.toml", resume);
  EXPECT_EQ(done.resumed_from, 3);
  EXPECT_TRUE(done.loop.steps.empty());
  EXPECT_EQ(done.final_checkpoint, CheckpointManager(checkpoint_dir(run_dir("run"))).path_for(3));
}

TEST_F(Resume, TruncatingMetricsDropsLaterRecordsAndATornLine) {
  const fs::path path = root_ / "metrics.jsonl";
  write_text(path,
             "{\"step\": 0, \"val_loss\": 5}\n{\"step\": 1, \"loss\": 4}\n"
             "{\"step\": 2, \"loss\": 3}\n{\"step\": 3, \"loss\": 2}\n{\"step\": 4, \"lo");
  truncate_metrics_after(path.string(), 2);
  EXPECT_EQ(read_text(path),
            "{\"step\": 0, \"val_loss\": 5}\n{\"step\": 1, \"loss\": 4}\n"
            "{\"step\": 2, \"loss\": 3}\n");
}

TEST_F(Resume, CheckpointSectionIsValidatedLikeTheOthers) {
  const StageConfig c = config("run", 10, 5, 2);
  EXPECT_EQ(c.checkpoint.interval, 5);
  EXPECT_EQ(c.checkpoint.keep_last, 2);
  EXPECT_EQ(stage_config_from_toml_text(stage_config_to_string(c), "again").checkpoint.keep_last,
            2);
  const std::string base = config_text("run", 10, 5);
  const auto message = [&](const std::vector<std::string>& sets) {
    try {
      stage_config_from_toml_text(base, "stage.toml", sets);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  std::string m = message({"checkpoint.every=3"});
  EXPECT_NE(m.find("stage.toml"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown key checkpoint.every"), std::string::npos) << m;
  m = message({"checkpoint.interval=\"often\""});
  EXPECT_NE(m.find("checkpoint.interval: expected an integer"), std::string::npos) << m;
  m = message({"checkpoint.keep_last=-1"});
  EXPECT_NE(m.find("checkpoint.keep_last: must be >= 0"), std::string::npos) << m;
  EXPECT_EQ(StageConfig().checkpoint.keep_last, 3);
  EXPECT_EQ(StageConfig().checkpoint.interval, 0);
}

}  // namespace
}  // namespace graft
