// The progress line's ETA (train/progress.h): paced by the steps this process
// ran, so a resumed run does not promise to finish almost at once.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "train/progress.h"

namespace graft {
namespace {

ProgressSnapshot at(int64_t step, int64_t total, int64_t first_step) {
  ProgressSnapshot s;
  s.step = step;
  s.total_steps = total;
  s.first_step = first_step;
  return s;
}

TEST(Progress, EtaOfAFreshRunIsTheRemainingStepsAtTheRunsPace) {
  // 25 of 100 steps in 50 s: 75 more at 2 s each.
  EXPECT_DOUBLE_EQ(ProgressReporter::eta_seconds(at(25, 100, 0), 50.0), 150.0);
  EXPECT_DOUBLE_EQ(ProgressReporter::eta_seconds(at(100, 100, 0), 80.0), 0.0);
  EXPECT_LT(ProgressReporter::eta_seconds(at(0, 100, 0), 3.0), 0);  // unknown yet
}

TEST(Progress, EtaAfterAResumeCountsOnlyTheStepsSinceTheRestart) {
  // Resumed at step 900 of 1000; 10 steps in 20 s since: 90 more at 2 s each,
  // not 20 s x (90 / 910) ~ 2 s as if all 910 steps had taken those 20 s.
  EXPECT_DOUBLE_EQ(ProgressReporter::eta_seconds(at(910, 1000, 900), 20.0), 180.0);
  EXPECT_LT(ProgressReporter::eta_seconds(at(900, 1000, 900), 5.0), 0);  // no step yet
}

TEST(Progress, PrintedLineOfAJustResumedRunHasNoEtaYet) {
  // The old rule (elapsed · (1 − 0.9) / 0.9) printed an ETA of about 0 s.
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  {
    ProgressReporter reporter("train", out, /*interval_seconds=*/0);
    reporter.update(at(900, 1000, 900));
  }
  std::rewind(out);
  char line[512] = {};
  ASSERT_NE(std::fgets(line, sizeof(line), out), nullptr);
  std::fclose(out);
  EXPECT_NE(std::string(line).find("step 900/1000"), std::string::npos) << line;
  EXPECT_NE(std::string(line).find("ETA ?"), std::string::npos) << line;
}

}  // namespace
}  // namespace graft
