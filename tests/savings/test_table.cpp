// The table's CSV and Markdown for a known result, gnuplot scripts (and a
// real PNG when gnuplot is installed), suite files, and a whole report built
// from hand-made run folders over two seeds.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "bench/savings/plot.h"
#include "bench/savings/suite.h"
#include "bench/savings/table.h"
#include "ops/check.h"
#include "tests/savings/savings_fixtures.h"

namespace graft::savings {
namespace {

namespace fs = std::filesystem;
using testing::fresh_dir;
using testing::write_stage;

Cost cost(double model, double kaplan, double kaplan_emb, double steps) {
  Cost c;
  c.flops_model = model;
  c.flops_total = model;
  c.kaplan = kaplan;
  c.kaplan_emb = kaplan_emb;
  c.steps = steps;
  return c;
}

ComparisonResult known_result() {
  ComparisonResult r;
  r.spec.name = "r";
  r.spec.recipe = "r";
  r.spec.baseline = "b";
  r.spec.metric = "val_loss";
  r.spec.paper = "27% less, total";
  SeedOutcome o;
  o.seed = 0;
  o.target = 3;
  o.recipe = CurvePoint{cost(150, 300, 400, 15), cost(100, 200, 300, 10), 3};
  o.baseline = CurvePoint{cost(200, 400, 500, 20), cost(200, 400, 500, 20), 3};
  o.recipe_wall = 10;
  o.baseline_wall = 20;
  r.seeds.push_back(o);
  r.one_offs.push_back(OneOffCost{"r", "r/a", cost(50, 100, 100, 5), 5, 1});
  return r;
}

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SavingsTable, CsvOfAKnownTable) {
  const std::string csv = table_csv({known_result()});
  std::istringstream lines(csv);
  std::string header, row, one_off;
  std::getline(lines, header);
  std::getline(lines, row);
  std::getline(lines, one_off);
  EXPECT_EQ(row,
            "comparison,r,r,b,val_loss,3,baseline final,150,200,300,400,400,500,15,20,10,20,"
            "0.25,0.5,0.25,0.5,0.25,,0,0: 25.0%,\"27% less, total\"");
  EXPECT_EQ(one_off, "one-off,r,r/a,,,,,50,,100,,100,,5,,5,,,,,,,,1,,");
  // Every row has the header's column count (the paper's comma is quoted).
  const auto columns = [](const std::string& line) {
    int n = 1;
    bool quoted = false;
    for (char c : line) {
      if (c == '"') quoted = !quoted;
      n += c == ',' && !quoted;
    }
    return n;
  };
  EXPECT_EQ(columns(header), 26);
  EXPECT_EQ(columns(row), 26);
  EXPECT_EQ(columns(one_off), 26);
}

TEST(SavingsTable, MarkdownOfAKnownTableAndANotReached) {
  ComparisonResult missed = known_result();
  missed.spec.name = "late";
  missed.seeds[0].recipe.reset();
  missed.one_offs.clear();
  const std::string md = table_markdown({known_result(), missed}, "T");
  EXPECT_NE(md.find("# T\n"), std::string::npos);
  EXPECT_NE(md.find("| r | b | val_loss <= 3 (baseline final) | 1.50e2 / 2.00e2 | "
                    "3.00e2 / 4.00e2; 4.00e2 / 5.00e2 | 15 / 20 | 10 s / 20 s | 25.0% | 50.0% | "
                    "25.0% / 50.0% | 25.0% | 27% less, total | 0 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| one-off: r/a | | (r's reused checkpoint) | 5.00e1 | 1.00e2; 1.00e2 | 5 | "
                    "5 s |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| late | b | val_loss <= 3 (baseline final) | not reached / 2.00e2 |"),
            std::string::npos)
      << md;
}

TEST(SavingsTable, Formats) {
  EXPECT_EQ(format_flops(1.234e15), "1.23e15");
  EXPECT_EQ(format_flops(9.999e14), "1.00e15");
  EXPECT_EQ(format_flops(0), "0");
  EXPECT_EQ(format_percent(0.273), "27.3%");
  EXPECT_EQ(format_percent(-0.5), "-50.0%");
  EXPECT_EQ(format_seconds(42), "42 s");
  EXPECT_EQ(format_seconds(900), "15.0 min");
  EXPECT_EQ(format_seconds(-1), "unknown");
}

PlotSpec hand_plot() {
  PlotSpec p;
  p.title = "it's a plot";
  p.xlabel = "FLOPs";
  p.ylabel = "val_loss";
  p.targets = {3};
  p.target_label = "target";
  p.series.push_back({"recipe", {{100, 5}, {1000, 3}}, PlotSeries::Style::line, 1, 7});
  p.series.push_back({"empty", {}, PlotSeries::Style::dashed, 1, 7});
  p.series.push_back({"baseline", {{200, 5}, {2000, 2.5}}, PlotSeries::Style::line, 2, 5});
  return p;
}

TEST(SavingsPlot, ScriptHasLogAxisDataAndTarget) {
  const std::string s = gnuplot_script(hand_plot(), "/tmp/x.png");
  EXPECT_NE(s.find("set output '/tmp/x.png'\n"), std::string::npos);
  EXPECT_NE(s.find("set title 'it''s a plot'\n"), std::string::npos);
  EXPECT_NE(s.find("set logscale x\n"), std::string::npos);
  EXPECT_NE(s.find("$s0 << EOD\n100 5\n1000 3\nEOD\n"), std::string::npos);
  EXPECT_NE(s.find("$s2 << EOD\n200 5\n2000 2.5\nEOD\n"), std::string::npos);
  EXPECT_EQ(s.find("$s1"), std::string::npos);  // an empty series is not plotted
  EXPECT_NE(s.find("set arrow 1 from graph 0, first 3 to graph 1, first 3 nohead"),
            std::string::npos);
  EXPECT_NE(s.find("NaN with lines dt 3 lw 2 lc rgb 'black' title 'target'"), std::string::npos);
}

TEST(SavingsPlot, GnuplotMakesAPng) {
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not installed (apt-get install gnuplot-nox)";
  const auto dir = fresh_dir("plot");
  std::string why;
  const std::string png = render_plot(hand_plot(), dir.string(), "p", &why);
  ASSERT_FALSE(png.empty()) << why;
  const std::string bytes = read(png);
  ASSERT_GT(bytes.size(), 1000u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  EXPECT_TRUE(fs::exists(dir / "p.gp"));
}

const char* kSuite = R"(
[suite]
name = "t"
recipe_path = "recipes/{scale}/{name}.toml"
seeds = 2
[scale.tiny]
set = ["training.steps=4"]
seeds = 1
[[comparison]]
recipe = "r"
baseline = "b"
reused_stages = ["a"]
paper = "27% less total compute"
[[comparison]]
name = "acc"
recipe = "r"
baseline = "b"
metric = "val_accuracy"
target = 0.5
baseline_also = ["m"]
)";

TEST(SavingsSuite, ReadsAFile) {
  const Suite s = suite_from_toml_text(kSuite, "t.toml");
  EXPECT_EQ(s.name, "t");
  EXPECT_EQ(s.seeds, 2);
  EXPECT_EQ(s.scales.at("tiny").seeds, 1);
  EXPECT_EQ(s.scales.at("tiny").overrides, std::vector<std::string>{"training.steps=4"});
  ASSERT_EQ(s.comparisons.size(), 2u);
  EXPECT_EQ(s.comparisons[0].name, "r");
  EXPECT_EQ(s.comparisons[0].reused_stages, std::vector<std::string>{"a"});
  EXPECT_EQ(*s.comparisons[1].target, 0.5);
  EXPECT_EQ(s.run_names(), (std::vector<std::string>{"b", "r", "m"}));
  EXPECT_EQ(s.recipe_file("r", "small"), "recipes/small/r.toml");
}

TEST(SavingsSuite, BadFilesNameTheKeyAndLine) {
  try {
    suite_from_toml_text("[[comparison]]\nrecipe = 'r'\nbaseline = 'b'\nmetirc = 'x'\n", "f.toml");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("f.toml:4: unknown key comparison.metirc"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(suite_from_toml_text("[[comparison]]\nrecipe = 'r'\n", "f"), InputError);
  EXPECT_THROW(
      suite_from_toml_text("[[comparison]]\nrecipe='r'\nbaseline='b'\nmetric='bleu'\n", "f"),
      InputError);
  EXPECT_THROW(suite_from_toml_text("[suite]\nname = 't'\n", "f"), InputError);
}

TEST(SavingsSuite, ReportFromRunFoldersOverTwoSeeds) {
  const auto root = fresh_dir("report");
  for (int seed : {0, 1}) {
    const fs::path b = seed_run_dir(root.string(), "b", seed);
    write_stage(b, {{0, 0, 0, 6.0}, {10, 1000, 2e6, 4.0}, {20, 2000, 4e6, 3.0}}, seed);
    const fs::path r = seed_run_dir(root.string(), "r", seed);
    write_stage(r / "a", {{0, 0, 0, 9.0}, {10, 1000, 1e6, 8.0}}, seed);
    // Seed 0 reaches 3.0 halfway through b's second interval, seed 1 exactly.
    write_stage(r / "b", {{0, 0, 0, 5.0}, {10, 500, 1e6, seed ? 3.0 : 3.5}, {20, 1000, 2e6, 2.5}},
                seed);
    testing::write_file(r / "summary.json",
                        "{\"recipe\": \"r\", \"stages\": [{\"name\": \"a\", \"wall_seconds\": 1},"
                        " {\"name\": \"b\", \"wall_seconds\": 2}]}");
  }
  Suite suite = suite_from_toml_text(kSuite, "t.toml");
  suite.comparisons.pop_back();
  const Report report = build_report(suite, root.string(), {0, 1, 2});
  ASSERT_EQ(report.results.size(), 1u);
  ASSERT_EQ(report.missing.size(), 1u);  // seed 2 was never run
  const auto& seeds = report.results[0].seeds;
  ASSERT_EQ(seeds.size(), 2u);
  EXPECT_DOUBLE_EQ(seeds[0].target, 3.0);
  EXPECT_DOUBLE_EQ(seeds[0].recipe->with_reused.flops_model, 2.5e6);
  EXPECT_DOUBLE_EQ(seeds[1].recipe->with_reused.flops_model, 2e6);
  EXPECT_DOUBLE_EQ(seeds[0].baseline->with_reused.flops_model, 4e6);
  EXPECT_DOUBLE_EQ(*savings(seeds[0], Convention::executed_model, true), 0.375);
  EXPECT_DOUBLE_EQ(*savings(seeds[0], Convention::executed_model, false), 0.625);
  EXPECT_DOUBLE_EQ(*savings(seeds[1], Convention::executed_model, true), 0.5);
  EXPECT_DOUBLE_EQ(*savings(seeds[1], Convention::executed_model, false), 0.75);
  // Kaplan: N is the same model everywhere, so only tokens matter: recipe
  // 1000 + 750 (seed 0) of baseline 2000.
  EXPECT_DOUBLE_EQ(*savings(seeds[0], Convention::kaplan, true), 1 - 1750.0 / 2000);
  ASSERT_EQ(report.results[0].one_offs.size(), 1u);
  EXPECT_EQ(report.results[0].one_offs[0].stage, "r/a");
  EXPECT_DOUBLE_EQ(report.results[0].one_offs[0].cost.flops_model, 1e6);
  EXPECT_EQ(report.results[0].one_offs[0].seeds, 2);

  // The plot: both seeds' curves (the recipe's also without stage a), one
  // target line (both baselines end at 3.0), and the four crossings.
  const PlotSpec plot = comparison_plot(report.results[0], report.runs[0]);
  EXPECT_EQ(plot.targets, std::vector<double>{3.0});
  ASSERT_EQ(plot.series.size(), 7u);
  EXPECT_EQ(plot.series[1].title, "r without reused checkpoints (seed 0)");
  // With stage a's cost, b's initial evaluation sits at 1e6; without it, at
  // 0 FLOPs, which a log axis cannot show.
  EXPECT_EQ(plot.series[0].points,
            (std::vector<std::pair<double, double>>{{1e6, 5}, {2e6, 3.5}, {3e6, 2.5}}));
  EXPECT_EQ(plot.series[1].points,
            (std::vector<std::pair<double, double>>{{1e6, 3.5}, {2e6, 2.5}}));
  EXPECT_EQ(plot.series[6].points,
            (std::vector<std::pair<double, double>>{{2.5e6, 3}, {4e6, 3}, {2e6, 3}, {4e6, 3}}));

  std::vector<std::string> notes;
  const auto out = root / "out";
  const std::string md = write_report(report, suite, "tiny", out.string(), &notes);
  EXPECT_NE(md.find("43.8% ± 8.8%"), std::string::npos) << md;  // mean and sample sd
  EXPECT_NE(md.find("68.8% ± 8.8%"), std::string::npos) << md;  // reused stage excluded
  EXPECT_NE(md.find("0: 37.5%; 1: 50.0%"), std::string::npos) << md;
  EXPECT_EQ(read(out / "table.md"), md);
  EXPECT_NE(read(out / "table.csv").find("comparison,r,r,b,val_loss,3,"), std::string::npos);
  EXPECT_TRUE(fs::exists(out / "r.gp"));
  if (gnuplot_available()) {
    EXPECT_TRUE(notes.empty()) << notes.front();
    EXPECT_GT(fs::file_size(out / "r.png"), 1000u);
  }
}

TEST(SavingsSuite, UnfinishedRunsAreLeftOutNotMeasured) {
  const auto root = fresh_dir("unfinished");
  write_stage(seed_run_dir(root.string(), "b", 0), {{0, 0, 0, 6.0}, {10, 1000, 2e6, 3.0}});
  const fs::path r = seed_run_dir(root.string(), "r", 0);
  write_stage(r / "a", {{0, 0, 0, 9.0}, {10, 1000, 1e6, 2.0}});
  // The runner lists a stage once it is finished: "b" is still training.
  testing::write_file(r / "summary.json", "{\"recipe\": \"r\", \"stages\": [{\"name\": \"a\"}]}");
  Suite suite = suite_from_toml_text(kSuite, "t.toml");
  suite.comparisons.pop_back();
  // Without the recipe's stage list, stage a would pass for the final one.
  EXPECT_EQ(build_report(suite, root.string(), {0}).results.size(), 1u);
  const Report report = build_report(suite, root.string(), {0}, [](const std::string& name) {
    return name == "r" ? std::vector<std::string>{"a", "b"} : std::vector<std::string>{};
  });
  EXPECT_TRUE(report.results.empty());
  ASSERT_FALSE(report.missing.empty());
  EXPECT_NE(report.missing.back().find("stage b not finished"), std::string::npos)
      << report.missing.back();
  // A curve stage the run does not have: that seed is reported, not fatal.
  suite.comparisons[0].recipe_stages = {"nope"};
  const Report bad = build_report(suite, root.string(), {0});
  EXPECT_TRUE(bad.results.empty());
  ASSERT_EQ(bad.missing.size(), 1u);
  EXPECT_NE(bad.missing[0].find("no stage 'nope'"), std::string::npos) << bad.missing[0];
}

}  // namespace
}  // namespace graft::savings
