#include "bench/savings/suite.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "bench/savings/plot.h"
#include "model/toml_reader.h"
#include "ops/check.h"

namespace graft::savings {

namespace fs = std::filesystem;

namespace {

std::string where(const std::string& source, const toml::node& node) {
  return source + ":" + std::to_string(node.source().begin.line);
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size())
    text.replace(pos, from.size(), to);
  return text;
}

// File names for plots: the comparison's name with anything odd replaced.
std::string file_stem(const std::string& name) {
  std::string out;
  for (char c : name)
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_';
  return out.empty() ? "comparison" : out;
}

}  // namespace

std::vector<std::string> Suite::run_names() const {
  std::vector<std::string> out;
  const auto add = [&](const std::string& n) {
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  for (const ComparisonSpec& c : comparisons) {
    // Also-runs first: they are what a side builds on.
    for (const auto& n : c.baseline_also)
      add(n);
    add(c.baseline);
    for (const auto& n : c.recipe_also)
      add(n);
    add(c.recipe);
  }
  return out;
}

std::string Suite::recipe_file(const std::string& run_name, const std::string& scale) const {
  std::string p = replace_all(replace_all(recipe_path, "{name}", run_name), "{scale}", scale);
  // Relative to the working directory, as every graft path is; but a suite
  // outside the tree still finds recipes beside itself.
  if (fs::path(p).is_relative() && !fs::exists(p) && !path.empty()) {
    const fs::path beside = fs::path(path).parent_path() / p;
    if (fs::exists(beside)) return beside.string();
  }
  return p;
}

Suite suite_from_toml_text(const std::string& text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw InputError(source + ":" + std::to_string(e.source().begin.line) + ": " +
                     std::string(e.description()));
  }
  TomlSection(&root, "", source).check_keys({"suite", "scale", "comparison"}, "top-level");
  Suite suite;
  suite.path = source;
  suite.name = fs::path(source).stem().string();
  if (const toml::table* t = root["suite"].as_table()) {
    const TomlSection s(t, "suite", source);
    s.check_keys({"name", "description", "recipe_path", "seeds", "first_seed"});
    s.string("name", suite.name);
    s.string("description", suite.description);
    s.string("recipe_path", suite.recipe_path);
    s.integer("seeds", suite.seeds, 1);
    s.integer("first_seed", suite.first_seed);
  }
  if (const toml::table* scales = root["scale"].as_table()) {
    for (const auto& [key, node] : *scales) {
      const std::string name(key.str());
      const toml::table* t = node.as_table();
      GRAFT_INPUT_CHECK(t, where(source, node) << ": scale." << name << " must be a table");
      const TomlSection s(t, "scale." + name, source);
      s.check_keys({"set", "seeds"});
      ScaleSettings settings;
      s.string_array("set", settings.overrides);
      s.integer("seeds", settings.seeds);
      suite.scales[name] = settings;
    }
  }
  const toml::array* comparisons = root["comparison"].as_array();
  GRAFT_INPUT_CHECK(comparisons && !comparisons->empty(), source << ": no [[comparison]] entries");
  for (const toml::node& node : *comparisons) {
    const toml::table* t = node.as_table();
    GRAFT_INPUT_CHECK(t, where(source, node) << ": [[comparison]] entries must be tables");
    const TomlSection s(t, "comparison", source);
    s.check_keys({"name", "recipe", "baseline", "metric", "target", "recipe_stages",
                  "baseline_stages", "reused_stages", "baseline_reused", "recipe_also",
                  "baseline_also", "paper"});
    ComparisonSpec c;
    s.string("recipe", c.recipe);
    s.string("baseline", c.baseline);
    GRAFT_INPUT_CHECK(!c.recipe.empty() && !c.baseline.empty(),
                      where(source, node) << ": a comparison needs recipe and baseline");
    c.name = c.recipe;
    s.string("name", c.name);
    c.metric = "val_loss";
    s.string("metric", c.metric);
    try {
      direction_of(c.metric);
    } catch (const InputError& e) {
      throw InputError(where(source, node) + ": comparison '" + c.name + "': " + e.what());
    }
    if (s.get("target")) {
      double target = 0;
      s.number("target", target);
      c.target = target;
    }
    s.string_array("recipe_stages", c.recipe_stages);
    s.string_array("baseline_stages", c.baseline_stages);
    s.string_array("reused_stages", c.reused_stages);
    s.string_array("baseline_reused", c.baseline_reused);
    s.string_array("recipe_also", c.recipe_also);
    s.string_array("baseline_also", c.baseline_also);
    s.string("paper", c.paper);
    for (const ComparisonSpec& other : suite.comparisons)
      GRAFT_INPUT_CHECK(other.name != c.name, where(source, node)
                                                  << ": two comparisons named '" << c.name << "'");
    suite.comparisons.push_back(c);
  }
  return suite;
}

Suite load_suite(const std::string& path) {
  std::ifstream in(path);
  GRAFT_INPUT_CHECK(in, "cannot open suite file " << path);
  std::ostringstream text;
  text << in.rdbuf();
  return suite_from_toml_text(text.str(), path);
}

std::string seed_run_dir(const std::string& suite_dir, const std::string& run_name, int64_t seed) {
  return (fs::path(suite_dir) / run_name / ("seed-" + std::to_string(seed))).string();
}

Report build_report(const Suite& suite, const std::string& suite_dir,
                    const std::vector<int64_t>& seeds, const StageNames& expected_stages) {
  Report report;
  std::set<std::string> unfinished;
  const auto get = [&](const std::string& name, int64_t seed) -> const RecipeRun* {
    const std::string key = name + "/seed-" + std::to_string(seed);
    auto it = report.loaded.find(key);
    if (it != report.loaded.end()) return &it->second;
    const std::string dir = seed_run_dir(suite_dir, name, seed);
    if (!fs::exists(fs::path(dir) / "summary.json") && !fs::exists(fs::path(dir) / "metrics.jsonl"))
      return nullptr;
    RecipeRun run = load_recipe_run(dir);
    if (run.stages.empty()) return nullptr;
    if (expected_stages) {
      for (const std::string& stage : expected_stages(name)) {
        if (run.stage(stage)) continue;
        unfinished.insert(dir + " (stage " + stage + " not finished)");
        return nullptr;
      }
    }
    if (run.seed < 0) run.seed = seed;
    run.name = name;  // the suite's name for it, which reused_stages entries use
    return &report.loaded.emplace(key, std::move(run)).first->second;
  };
  for (const ComparisonSpec& spec : suite.comparisons) {
    std::vector<SeedRuns> runs;
    for (int64_t seed : seeds) {
      SeedRuns r;
      r.seed = seed;
      std::vector<std::string> absent;
      const auto need = [&](const std::string& name) {
        const RecipeRun* run = get(name, seed);
        if (!run) absent.push_back(seed_run_dir(suite_dir, name, seed));
        return run;
      };
      r.recipe = need(spec.recipe);
      r.baseline = need(spec.baseline);
      for (const auto& n : spec.recipe_also)
        r.recipe_also.push_back(need(n));
      for (const auto& n : spec.baseline_also)
        r.baseline_also.push_back(need(n));
      if (!absent.empty()) {
        std::string line = spec.name + " seed " + std::to_string(seed) + ": no run in";
        for (const auto& a : absent)
          line += " " + a;
        report.missing.push_back(line);
        continue;
      }
      runs.push_back(r);
    }
    // A seed whose runs cannot be measured (a curve stage missing, no
    // evaluation of the metric) is reported, and the other seeds still count.
    std::vector<SeedRuns> usable;
    for (const SeedRuns& r : runs) {
      try {
        measure(spec, r);
        usable.push_back(r);
      } catch (const InputError& e) {
        report.missing.push_back(spec.name + " seed " + std::to_string(r.seed) + ": " + e.what());
      }
    }
    runs = std::move(usable);
    if (runs.empty()) continue;
    report.results.push_back(compare(spec, runs));
    report.runs.push_back(std::move(runs));
  }
  for (const std::string& u : unfinished)
    report.missing.push_back("unfinished run " + u);
  return report;
}

std::string write_report(const Report& report, const Suite& suite, const std::string& scale,
                         const std::string& out_dir, std::vector<std::string>* notes) {
  fs::create_directories(out_dir);
  const std::string title =
      "Savings: suite " + suite.name + (scale.empty() ? "" : ", scale " + scale);
  std::string md = table_markdown(report.results, title);
  if (!report.missing.empty()) {
    md += "\nLeft out:\n\n";
    for (const auto& m : report.missing)
      md += "- " + m + "\n";
  }
  const auto write = [&](const std::string& name, const std::string& text) {
    const fs::path path = fs::path(out_dir) / name;
    {
      std::ofstream out(path.string() + ".tmp");
      GRAFT_INPUT_CHECK(out, "cannot write " << path.string());
      out << text;
    }
    fs::rename(path.string() + ".tmp", path);
  };
  std::string plots;
  for (size_t i = 0; i < report.results.size(); ++i) {
    const ComparisonResult& r = report.results[i];
    std::string why;
    const std::string stem = file_stem(r.spec.name);
    const std::string png = render_plot(comparison_plot(r, report.runs[i]), out_dir, stem, &why);
    if (png.empty()) {
      if (notes) notes->push_back("plot " + r.spec.name + ": " + why);
    } else {
      plots += "- " + r.spec.name + ": [" + stem + ".png](" + stem + ".png)\n";
    }
  }
  if (!plots.empty()) md += "\nPlots (quality vs executed FLOPs, log x):\n\n" + plots;
  write("table.md", md);
  write("table.csv", table_csv(report.results));
  return md;
}

}  // namespace graft::savings
