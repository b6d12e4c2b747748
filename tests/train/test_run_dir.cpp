// Run folders (config.toml, metrics.jsonl, train.log) and the peak probe.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "train/peak.h"
#include "train/run_dir.h"
#include "train_fixtures.h"

namespace graft {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

TEST(RunDirectory, MetricsHaveOneObjectPerLoggedStepWithEveryField) {
  const fs::path dir = fs::temp_directory_path() / "graft_run_dir_test";
  fs::remove_all(dir);
  {
    RunDirectory run((dir / "nested").string());
    run.write_config("[run]\ndir = \"x\"");
    Decoder model(testing::small_decoder(), 1);
    TokenPredictionTask task(TokenPredictionTask::Head::lm);
    Trainer trainer(model, task, testing::quick_options(6));
    LoopOptions loop;
    loop.steps = 6;
    loop.log_interval = 4;
    loop.eval_interval = 3;
    loop.peak_flops_per_s = 1e12;
    const std::vector<Batch> valid{testing::pattern_batch(99, 0, 2, 8, 23)};
    run_training(trainer, testing::pattern_source(2, 8, 23), valid, loop, &run);
  }
  const fs::path folder = dir / "nested";
  EXPECT_EQ(lines_of(folder / "config.toml"), (std::vector<std::string>{"[run]", "dir = \"x\""}));
  EXPECT_FALSE(fs::exists(folder / "config.toml.tmp"));
  const std::vector<std::string> metrics = lines_of(folder / "metrics.jsonl");
  // Step 0 (initial evaluation), 3 (evaluation), 4 (log interval), 6 (last).
  ASSERT_EQ(metrics.size(), 4u);
  // The initial evaluation carries the cumulative counters at that point (all
  // zero), so the savings harness can place every evaluation on a FLOPs axis.
  EXPECT_EQ(metrics[0].rfind("{\"step\": 0, ", 0), 0u) << metrics[0];
  for (const char* key : {"\"tokens\": 0,", "\"flops_model\": 0,", "\"val_loss\": "}) {
    EXPECT_NE(metrics[0].find(key), std::string::npos) << key << " missing in " << metrics[0];
  }
  EXPECT_EQ(metrics[0].find("\"loss\": "), std::string::npos) << "no training loss at step 0";
  for (const char* key :
       {"\"step\": 3", "\"loss\": ", "\"lr\": ", "\"grad_norm\": ", "\"tokens\": 48",
        "\"flops_forward\": ", "\"flops_backward\": ", "\"flops_model\": ", "\"tokens_per_s\": ",
        "\"mfu\": ", "\"skipped\": false",
        "\"val_loss\": ", "\"val_ppl\": ", "\"val_accuracy\": "}) {
    EXPECT_NE(metrics[1].find(key), std::string::npos) << key << " missing in " << metrics[1];
  }
  EXPECT_NE(metrics[2].find("\"step\": 4"), std::string::npos);
  EXPECT_EQ(metrics[2].find("val_loss"), std::string::npos) << "no evaluation at step 4";
  EXPECT_NE(metrics[3].find("\"step\": 6"), std::string::npos);
  EXPECT_NE(metrics[3].find("\"tokens\": 96"), std::string::npos);
  const std::vector<std::string> log = lines_of(folder / "train.log");
  ASSERT_EQ(log.size(), 3u);  // three evaluations
  EXPECT_NE(log[2].find("step 6 validation: loss"), std::string::npos) << log[2];
  fs::remove_all(dir);
}

TEST(RunDirectory, JsonWritesNonFiniteAsNullAndEscapesStrings) {
  JsonObject o;
  o.add("a", std::nan("")).add("b", 1.5).add("c", "x\"y\n").add("d", int64_t{3}).add("e", true);
  EXPECT_EQ(o.str(), "{\"a\": null, \"b\": 1.5, \"c\": \"x\\\"y\\n\", \"d\": 3, \"e\": true}");
}

TEST(RunDirectory, UncreatableFolderIsAnInputErrorNamingIt) {
  const fs::path file = fs::temp_directory_path() / "graft_run_dir_file";
  std::ofstream(file) << "not a folder";
  try {
    RunDirectory run((file / "run").string());
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("graft_run_dir_file"), std::string::npos) << e.what();
  }
  fs::remove(file);
}

TEST(Peak, MeasuresAPositiveRateAndLeavesTheLedgerAlone) {
  const FlopsLedger before = flops_ledger();
  const PeakMeasurement m = measure_sgemm_peak(128, 0.01);
  EXPECT_GT(m.flops_per_second, 1e8);
  EXPECT_GE(m.repeats, 3);
  EXPECT_EQ(flops_ledger().forward().matmul, before.forward().matmul);
  EXPECT_EQ(format_mfu(1e9, 0), "unknown");
  EXPECT_EQ(format_mfu(1e9, 4e9), "25.0%");
  EXPECT_EQ(format_flops_rate(0), "unknown");
}

}  // namespace
}  // namespace graft
