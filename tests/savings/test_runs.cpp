// Reading run folders back: metrics.jsonl records, resumes, summary.json's
// stages, carried FLOPs of earlier stages, and both FLOPs conventions.
#include <gtest/gtest.h>

#include "bench/savings/json_read.h"
#include "bench/savings/runs.h"
#include "model/config_toml.h"
#include "model/counts.h"
#include "ops/check.h"
#include "tests/savings/savings_fixtures.h"

namespace graft::savings {
namespace {

namespace fs = std::filesystem;
using testing::fresh_dir;
using testing::Record;
using testing::write_file;
using testing::write_stage;

TEST(SavingsJson, ParsesWhatJsonObjectWrites) {
  const Json v = parse_json(
      R"({"a": 1.5e3, "b": null, "c": "x\"\u00e9", "d": [true, false], "e": {"f": -2}, "g": true})",
      "t");
  EXPECT_DOUBLE_EQ(*number_at(v, "a"), 1500);
  EXPECT_FALSE(number_at(v, "b"));  // null: a non-finite number
  EXPECT_EQ(*string_at(v, "c"), "x\"\xc3\xa9");
  EXPECT_EQ(member(v, "d")->size(), 2u);
  EXPECT_EQ(bool_at(v, "g"), std::optional<bool>(true));
  EXPECT_FALSE(bool_at(v, "a"));  // a number, not a boolean
  EXPECT_DOUBLE_EQ(*number_at(*member(v, "e"), "f"), -2);
  EXPECT_EQ(member(v, "missing"), nullptr);
  EXPECT_THROW(parse_json("{\"a\": 1,}", "t"), InputError);
  EXPECT_THROW(parse_json("{\"a\": 1} x", "t"), InputError);
  // Several lines: the message names the line of the error.
  try {
    parse_json("{\n\"a\": 1,\n\"b\": }\n", "summary.json");
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("summary.json:3: invalid JSON"), std::string::npos)
        << e.what();
  }
}

TEST(SavingsRuns, HandCountedParametersMatchTheClosedForm) {
  // The fixture's hand count is what the Kaplan tests below rely on.
  const ParameterCounts c = closed_form_parameter_counts(
      model_config_from_toml_text(std::string(testing::kTinyModelToml).substr(8), "fixture"));
  EXPECT_EQ(c.non_embedding(), testing::kTinyNonEmbedding);
  EXPECT_EQ(c.total(), testing::kTinyWithEmbedding);
}

TEST(SavingsRuns, StageRecordsKaplanAndExecuted) {
  const auto dir = fresh_dir("stage");
  write_stage(dir / "s", {{0, 0, 0, 5.0}, {10, 1000, 5e6, -1}, {20, 2000, 1e7, 4.0}});
  const StageRun s = load_stage_run((dir / "s").string());
  EXPECT_EQ(s.name, "s");
  EXPECT_DOUBLE_EQ(s.params_non_embedding, 616);
  ASSERT_EQ(s.evals.size(), 2u);
  EXPECT_EQ(s.evals[1].step, 20);
  EXPECT_DOUBLE_EQ(s.evals[1].cost.flops_model, 1e7);
  EXPECT_DOUBLE_EQ(s.evals[1].cost.flops_total, 1e7 + 1);
  EXPECT_DOUBLE_EQ(s.evals[1].cost.kaplan, 6 * 616 * 2000.0);
  EXPECT_DOUBLE_EQ(s.evals[1].cost.kaplan_emb, 6 * 776 * 2000.0);
  EXPECT_DOUBLE_EQ(s.evals[0].cost.flops_model, 0);
  EXPECT_DOUBLE_EQ(s.final_cost.steps, 20);
}

TEST(SavingsRuns, ResumeDropsTheRecordsItRewrote) {
  const auto dir = fresh_dir("resume");
  // Killed after logging step 30; resumed from the step-20 checkpoint.
  write_stage(dir / "s", {{0, 0, 0, 5.0},
                          {20, 2000, 2e6, 4.0},
                          {30, 3000, 3e6, 3.9},
                          {25, 2500, 2.5e6, 3.5},
                          {30, 3000, 3e6, 3.0}});
  const StageRun s = load_stage_run((dir / "s").string());
  ASSERT_EQ(s.evals.size(), 4u);
  EXPECT_EQ(s.evals[2].step, 25);
  EXPECT_DOUBLE_EQ(s.evals[3].metrics.at("val_loss"), 3.0);
}

TEST(SavingsRuns, TornLastLineIsIgnoredButACorruptMiddleIsNot) {
  const auto dir = fresh_dir("torn");
  write_stage(dir / "s", {{0, 0, 0, 5.0}, {10, 100, 1e6, 4.0}});
  std::ofstream(dir / "s" / "metrics.jsonl", std::ios::app) << "{\"step\": 20, \"lo";
  EXPECT_EQ(load_stage_run((dir / "s").string()).evals.size(), 2u);
  std::ofstream(dir / "s" / "metrics.jsonl", std::ios::app) << "\n{\"step\": 30}\n";
  EXPECT_THROW(load_stage_run((dir / "s").string()), InputError);
}

// Stage "a" (cost 1e6, reused) then stage "b", whose curve sits after it.
fs::path two_stage_run(const std::string& name, bool summary_marks_reused) {
  const auto dir = fresh_dir(name);
  write_stage(dir / "a", {{0, 0, 0, 9.0}, {10, 1000, 1e6, 8.0}});
  write_stage(dir / "b", {{0, 0, 0, 6.0}, {10, 500, 2e6, 4.0}, {20, 1000, 4e6, 3.0}});
  write_file(
      dir / "summary.json",
      std::string("{\"recipe\": \"seq\", \"stages\": [\n"
                  " {\"name\": \"a\", \"wall_seconds\": 10, \"final_checkpoint\": \"x.h5\"") +
          (summary_marks_reused ? ", \"reused\": true" : "") +
          ", \"flops\": {\"model\": 1e6}, \"carried_total\": {\"model\": 1e6}},\n"
          " {\"name\": \"b\", \"wall_seconds\": 20, \"flops\": {\"model\": 4e6}, "
          "\"carried_total\": {\"model\": 5e6}}]}\n");
  return dir;
}

TEST(SavingsRuns, CarriedFlopsOfEarlierStagesOnTheCurve) {
  const RecipeRun run = load_recipe_run(two_stage_run("carried", false).string());
  EXPECT_EQ(run.name, "seq");
  EXPECT_EQ(run.seed, 0);
  ASSERT_EQ(run.stages.size(), 2u);
  EXPECT_DOUBLE_EQ(run.wall_seconds, 30);
  EXPECT_EQ(run.stages[0].checkpoint, "x.h5");
  CurveSpec spec;
  const Curve c = build_curve(run, spec);  // default: the last stage's evaluations
  ASSERT_EQ(c.size(), 3u);
  EXPECT_DOUBLE_EQ(c[0].with_reused.flops_model, 1e6);  // b's initial evaluation
  EXPECT_DOUBLE_EQ(c[2].with_reused.flops_model, 5e6);
  EXPECT_DOUBLE_EQ(c[2].with_reused.kaplan, 6 * 616 * 2000.0);
  EXPECT_DOUBLE_EQ(c[2].with_reused.steps, 30);
  EXPECT_DOUBLE_EQ(c[2].without_reused.flops_model, 5e6);  // nothing marked reused

  spec.reused_stages = {"a"};
  const Curve excluded = build_curve(run, spec);
  EXPECT_DOUBLE_EQ(excluded[2].with_reused.flops_model, 5e6);
  EXPECT_DOUBLE_EQ(excluded[2].without_reused.flops_model, 4e6);
  EXPECT_DOUBLE_EQ(excluded[2].without_reused.kaplan, 6 * 616 * 1000.0);
}

TEST(SavingsRuns, SummaryCanMarkAStageReused) {
  const RecipeRun run = load_recipe_run(two_stage_run("marked", true).string());
  const Curve c = build_curve(run, CurveSpec{});
  EXPECT_DOUBLE_EQ(c.back().without_reused.flops_model, 4e6);
}

TEST(SavingsRuns, CurveStagesAndAlsoRuns) {
  const RecipeRun run = load_recipe_run(two_stage_run("also", false).string());
  CurveSpec spec;
  spec.curve_stages = {"a", "b"};
  const Curve both = build_curve(run, spec);
  ASSERT_EQ(both.size(), 5u);
  EXPECT_DOUBLE_EQ(both[1].with_reused.flops_model, 1e6);
  EXPECT_DOUBLE_EQ(both[1].quality, 8.0);

  // Another run's whole cost in front: 5e6 more.
  const Curve after = build_curve(run, CurveSpec{}, {&run});
  EXPECT_DOUBLE_EQ(after.back().with_reused.flops_model, 1e7);
  spec.curve_stages = {"missing"};
  EXPECT_THROW(build_curve(run, spec), InputError);
}

TEST(SavingsRuns, SingleStageFolderWithoutSummary) {
  const auto dir = fresh_dir("single");
  write_stage(dir, {{0, 0, 0, 5.0}, {10, 100, 1e6, 4.0}}, 3);
  const RecipeRun run = load_recipe_run(dir.string());
  ASSERT_EQ(run.stages.size(), 1u);
  EXPECT_EQ(run.seed, 3);
  EXPECT_THROW(load_recipe_run((dir / "nothing").string()), InputError);
}

}  // namespace
}  // namespace graft::savings
