// run_stage refuses bad input before it writes the run folder: faults found by
// breaking runs that used to fail only after config.toml and metrics.jsonl
// were written (or, for a renamed checkpoint, never). Each is an InputError
// (exit 2 at the CLI) naming the key or file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "data/fortune_corpus.h"
#include "data/token_store.h"
#include "tests/data/tiny_corpus.h"
#include "train/checkpoint_manager.h"
#include "train/checkpointing.h"
#include "train/stage.h"
#include "train/stage_config.h"

#include "tests/support/files_and_errors.h"
namespace graft {
namespace {

using testing::input_error_of;
using testing::read_text;

namespace fs = std::filesystem;

void expect_mentions(const std::string& message, std::initializer_list<std::string> parts) {
  for (const std::string& part : parts) {
    EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' missing in: " << message;
  }
}

StageRunOptions quiet() {
  StageRunOptions o;
  o.progress = nullptr;
  o.info = nullptr;
  o.measure_peak = false;
  return o;
}

// A scratch folder with a synthetic corpus in fortune format (no installed
// package needed) and a tiny decoder's stage config.
class StageChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() /
            ("graft-stage-checks-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "corpus");
    std::string text;
    const char* words[] = {"cats", "read", "small", "books", "when", "it", "rains", "slowly"};
    for (int entry = 0; entry < 200; ++entry) {
      for (int w = 0; w < 5 + entry % 7; ++w)
        text += std::string(words[(entry * 7 + w * 3) % 8]) + " ";
      text += ".\n%\n";
    }
    std::ofstream(root_ / "corpus" / "synthetic") << text;
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(root_);
  }

  StageConfig config(const std::string& run, int64_t steps,
                     const std::vector<std::string>& overrides = {}) const {
    const std::string text =
        "[model]\nkind = \"decoder\"\nvocab_size = 259\nd_model = 16\nnum_heads = 2\n"
        "d_ff = 32\ndecoder_layers = 1\nmax_positions = 16\n"
        "[optimizer]\nlr = 3e-3\n"
        "[training]\nsteps = " +
        std::to_string(steps) +
        "\nbatch_size = 2\nseq_len = 16\neval_batches = 1\nlog_interval = 1\n"
        "[data]\nsource = \"fortunes\"\ndir = \"" +
        (root_ / "corpus").string() + "\"\nvalid_fraction = 0.1\n[run]\ndir = \"" +
        (root_ / run).string() + "\"\n[checkpoint]\ninterval = 2\nkeep_last = 0\n";
    return stage_config_from_toml_text(text, "test.toml", overrides);
  }

  fs::path root_;
};

// Found at the first save before: every step until then was lost, and
// metrics.jsonl was already rewritten. Root ignores mode bits, so the folder
// is made unusable by a file in its place (tests/train/cli_checks.sh
// readonly checks a read-only mount).
TEST_F(StageChecks, CheckpointFolderThatCannotBeWrittenIsRefusedBeforeTheRunFolder) {
  const fs::path run = root_ / "blocked";
  fs::create_directories(run);
  std::ofstream(run / "checkpoints") << "not a folder";
  for (const bool resume : {false, true}) {
    StageRunOptions options = quiet();
    options.resume = resume;
    const std::string message =
        input_error_of([&] { run_stage(config("blocked", 4), "test.toml", options); });
    expect_mentions(message, {"checkpoint folder " + (run / "checkpoints").string(),
                              "a file of that name is in the way"});
    EXPECT_FALSE(fs::exists(run / "metrics.jsonl")) << (resume ? "--resume" : "fresh");
    EXPECT_FALSE(fs::exists(run / "config.toml")) << (resume ? "--resume" : "fresh");
  }
}

// A checkpoint renamed to a later step was taken as the newest forever.
TEST_F(StageChecks, CheckpointWhoseStepIsNotItsNameIsRefusedAtResume) {
  run_stage(config("renamed", 4), "test.toml", quiet());
  const CheckpointManager manager(checkpoint_dir((root_ / "renamed").string()));
  fs::rename(manager.path_for(2), manager.path_for(9));
  const std::string metrics = read_text(root_ / "renamed" / "metrics.jsonl");

  StageRunOptions resume = quiet();
  resume.resume = true;
  const std::string message =
      input_error_of([&] { run_stage(config("renamed", 12), "test.toml", resume); });
  expect_mentions(message, {manager.path_for(9), "holds step 2 but its name says step 9",
                            "rename it to ckpt-000002.h5"});
  EXPECT_EQ(read_text(root_ / "renamed" / "metrics.jsonl"), metrics);
  EXPECT_FALSE(fs::exists(manager.path_for(12)));
  EXPECT_THROW(manager.load_latest(), InputError);

  // Named right again, it resumes.
  fs::rename(manager.path_for(9), manager.path_for(2));
  EXPECT_EQ(manager.load_latest()->step, 4);
}

// Token ids past model.vocab_size failed at the first batch, after the run
// folder was written; the stores' vocabulary is known before.
TEST_F(StageChecks, ModelVocabularySmallerThanTheTokenStoresIsRefusedBeforeTheRunFolder) {
  if (!fs::is_directory(kFortuneDirectory)) {
    GTEST_SKIP() << kFortuneDirectory << " is missing (the tiny tokenizer trains on it)";
  }
  PrepareOptions prepare;
  prepare.inputs = {testing::write_corpus("stage-checks.txt", testing::tiny_documents(200))};
  prepare.tokenizer = testing::tiny_tokenizer_path();  // 600 ids
  for (const char* split : {"train", "valid"}) {
    prepare.output = (root_ / (std::string(split) + ".h5")).string();
    prepare.split = split;
    prepare_token_store(prepare);
  }
  const std::vector<std::string> store = {"data.source=store",
                                          "data.train=" + (root_ / "train.h5").string(),
                                          "data.valid=" + (root_ / "valid.h5").string()};
  std::vector<std::string> small = store;
  small.push_back("model.vocab_size=300");
  const std::string message =
      input_error_of([&] { run_stage(config("vocab", 2, small), "test.toml", quiet()); });
  expect_mentions(message, {"test.toml", "model.vocab_size = 300",
                            "data.train = " + (root_ / "train.h5").string(), "600 ids"});
  EXPECT_FALSE(fs::exists(root_ / "vocab"));

  std::vector<std::string> enough = store;
  enough.push_back("model.vocab_size=600");
  EXPECT_NO_THROW(run_stage(config("vocab", 2, enough), "test.toml", quiet()));
}

}  // namespace
}  // namespace graft
