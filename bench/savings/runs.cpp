#include "bench/savings/runs.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>

#include <toml++/toml.h>

#include "bench/savings/json_read.h"
#include "model/config_toml.h"
#include "model/counts.h"
#include "ops/check.h"

namespace graft::savings {

namespace fs = std::filesystem;

namespace {

const char* const kMetrics[] = {"val_loss", "val_ppl", "val_accuracy", "val_bits_per_byte"};

// train.log's first and last timestamps: the wall time when no summary says
// better. A resumed stage's span includes the time it lay stopped, so the
// runner's own figure is preferred whenever there is one.
double log_span_seconds(const std::string& path) {
  std::ifstream in(path);
  if (!in) return -1;
  std::string line, first, last;
  while (std::getline(in, line)) {
    if (line.size() < 19) continue;
    if (first.empty()) first = line.substr(0, 19);
    last = line.substr(0, 19);
  }
  const auto parse = [](const std::string& stamp) -> double {
    std::tm tm{};
    if (std::sscanf(stamp.c_str(), "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
      return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_isdst = -1;
    return static_cast<double>(std::mktime(&tm));
  };
  if (first.empty()) return -1;
  const double a = parse(first), b = parse(last);
  return a >= 0 && b >= a ? b - a : -1;
}

struct ConfigFacts {
  double non_embedding = 0, with_embedding = 0;
  int64_t seed = -1;
};

ConfigFacts read_config(const std::string& dir) {
  const std::string path = (fs::path(dir) / "config.toml").string();
  GRAFT_INPUT_CHECK(fs::exists(path), "run folder " << dir << " has no config.toml");
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw InputError(path + ":" + std::to_string(e.source().begin.line) + ": " +
                     std::string(e.description()));
  }
  const toml::table* model_table = root["model"].as_table();
  GRAFT_INPUT_CHECK(model_table, path << " has no [model] table");
  // model.device and model.dtype are the stage's placement and precision,
  // not the architecture's (the stage config reader strips them the same
  // way); N depends on neither.
  toml::table model = *model_table;
  model.erase("device");
  model.erase("dtype");
  const ParameterCounts counts = closed_form_parameter_counts(model_config_from_toml(model, path));
  ConfigFacts facts;
  facts.non_embedding = static_cast<double>(counts.non_embedding());
  facts.with_embedding = static_cast<double>(counts.total());
  if (auto seed = root["training"]["seed"].value<int64_t>()) facts.seed = *seed;
  return facts;
}

}  // namespace

const StageRun* RecipeRun::stage(const std::string& stage_name) const {
  for (const StageRun& s : stages)
    if (s.name == stage_name) return &s;
  return nullptr;
}

Cost RecipeRun::total_cost() const {
  Cost c;
  for (const StageRun& s : stages)
    c += s.final_cost;
  return c;
}

StageRun load_stage_run(const std::string& dir, const std::string& name) {
  StageRun stage;
  stage.dir = dir;
  stage.name = name.empty() ? fs::path(dir).lexically_normal().filename().string() : name;
  if (stage.name.empty())
    stage.name = fs::path(dir).lexically_normal().parent_path().filename().string();
  const ConfigFacts facts = read_config(dir);
  stage.params_non_embedding = facts.non_embedding;
  stage.params_with_embedding = facts.with_embedding;

  const std::string metrics_path = (fs::path(dir) / "metrics.jsonl").string();
  GRAFT_INPUT_CHECK(fs::exists(metrics_path), "run folder " << dir << " has no metrics.jsonl");
  struct Row {
    int64_t step;
    Cost cost;
    bool has_cost;
    std::map<std::string, double> metrics;
  };
  std::vector<Row> rows;
  for (const Json& record : read_jsonl(metrics_path)) {
    const auto step = number_at(record, "step");
    GRAFT_INPUT_CHECK(step, metrics_path << ": a record without \"step\"");
    Row row{static_cast<int64_t>(*step), Cost{}, false, {}};
    // A resumed run starts again from its checkpoint: what the killed run
    // logged past that point was never part of the resumed run's history.
    while (!rows.empty() && rows.back().step >= row.step)
      rows.pop_back();
    if (auto flops = number_at(record, "flops_model")) {
      row.has_cost = true;
      row.cost.flops_model = *flops;
      // Records from before flops_total existed: model plus element-wise.
      row.cost.flops_total = number_at(record, "flops_total")
                                 .value_or(*flops + number_at(record, "flops_other").value_or(0));
      row.cost.tokens = number_at(record, "tokens").value_or(0);
    } else if (row.step == 0) {
      row.has_cost = true;  // the initial evaluation, before any step
    } else if (!rows.empty()) {
      row.cost = rows.back().cost;
    }
    row.cost.steps = static_cast<double>(row.step);
    row.cost.kaplan = 6 * stage.params_non_embedding * row.cost.tokens;
    row.cost.kaplan_emb = 6 * stage.params_with_embedding * row.cost.tokens;
    for (const char* m : kMetrics) {
      auto v = number_at(record, m);
      if (v && std::isfinite(*v)) row.metrics[m] = *v;
    }
    rows.push_back(std::move(row));
  }
  for (const Row& row : rows) {
    if (row.has_cost) stage.final_cost = row.cost;
    if (!row.metrics.empty()) stage.evals.push_back(EvalRecord{row.step, row.cost, row.metrics});
  }
  stage.wall_seconds = log_span_seconds((fs::path(dir) / "train.log").string());
  return stage;
}

RecipeRun load_recipe_run(const std::string& dir, const std::vector<std::string>& stage_order) {
  RecipeRun run;
  run.dir = dir;
  run.name = fs::path(dir).lexically_normal().filename().string();
  const fs::path summary_path = fs::path(dir) / "summary.json";
  if (fs::exists(summary_path)) {
    const Json summary = read_json_file(summary_path.string());
    if (auto n = string_at(summary, "recipe"))
      run.name = *n;
    else if (auto n2 = string_at(summary, "name"))
      run.name = *n2;
    if (auto s = number_at(summary, "seed")) run.seed = static_cast<int64_t>(*s);
    if (auto w = number_at(summary, "wall_seconds")) run.wall_seconds = *w;
    const Json* stages = member(summary, "stages");
    GRAFT_INPUT_CHECK(stages && stages->is_array(), summary_path.string()
                                                        << " has no \"stages\" array");
    for (const Json& s : *stages) {
      const auto name = string_at(s, "name");
      GRAFT_INPUT_CHECK(name, summary_path.string() << ": a stage without \"name\"");
      std::string stage_dir = string_at(s, "run_dir").value_or(string_at(s, "dir").value_or(""));
      if (stage_dir.empty() || !fs::exists(stage_dir)) stage_dir = (fs::path(dir) / *name).string();
      // A stage the runner lists but never started (a run stopped early) has
      // no metrics yet: it simply contributes nothing.
      if (!fs::exists(fs::path(stage_dir) / "metrics.jsonl")) continue;
      StageRun stage = load_stage_run(stage_dir, *name);
      if (auto w = number_at(s, "wall_seconds")) stage.wall_seconds = *w;
      stage.reused = bool_at(s, "reused").value_or(false) || bool_at(s, "one_off").value_or(false);
      stage.checkpoint =
          string_at(s, "final_checkpoint").value_or(string_at(s, "checkpoint").value_or(""));
      run.stages.push_back(std::move(stage));
    }
  } else if (fs::exists(fs::path(dir) / "metrics.jsonl")) {
    run.stages.push_back(load_stage_run(dir, run.name));
  } else {
    GRAFT_INPUT_CHECK(!stage_order.empty(),
                      dir << " has neither summary.json nor metrics.jsonl: not a run folder");
    for (const std::string& name : stage_order) {
      const fs::path stage_dir = fs::path(dir) / name;
      if (fs::exists(stage_dir / "metrics.jsonl"))
        run.stages.push_back(load_stage_run(stage_dir.string(), name));
    }
  }
  if (run.wall_seconds < 0) {
    double sum = 0;
    bool known = !run.stages.empty();
    for (const StageRun& s : run.stages) {
      known = known && s.wall_seconds >= 0;
      sum += s.wall_seconds;
    }
    if (known) run.wall_seconds = sum;
  }
  if (run.seed < 0 && !run.stages.empty()) run.seed = read_config(run.stages.back().dir).seed;
  return run;
}

bool is_reused(const RecipeRun& run, const StageRun& stage, const CurveSpec& spec) {
  return stage.reused || spec.reused_stages.count(stage.name) > 0 ||
         spec.reused_stages.count(run.name + "/" + stage.name) > 0 ||
         spec.reused_stages.count(run.name) > 0;
}

Curve build_curve(const RecipeRun& run, const CurveSpec& spec,
                  const std::vector<const RecipeRun*>& also) {
  GRAFT_INPUT_CHECK(!run.stages.empty(), run.dir << " has no stages with metrics");
  Cost with, without;
  for (const RecipeRun* other : also) {
    for (const StageRun& s : other->stages) {
      with += s.final_cost;
      if (!is_reused(*other, s, spec)) without += s.final_cost;
    }
  }
  for (const std::string& name : spec.curve_stages)
    GRAFT_INPUT_CHECK(run.stage(name), run.dir << " has no stage '" << name << "'");
  Curve curve;
  for (size_t i = 0; i < run.stages.size(); ++i) {
    const StageRun& s = run.stages[i];
    const bool on_curve = spec.curve_stages.empty()
                              ? i + 1 == run.stages.size()
                              : std::find(spec.curve_stages.begin(), spec.curve_stages.end(),
                                          s.name) != spec.curve_stages.end();
    const bool reused = is_reused(run, s, spec);
    if (on_curve) {
      for (const EvalRecord& e : s.evals) {
        auto q = e.metrics.find(spec.metric);
        if (q == e.metrics.end()) continue;
        CurvePoint p;
        p.with_reused = with + e.cost;
        p.without_reused = reused ? without : without + e.cost;
        p.quality = q->second;
        curve.push_back(p);
      }
    }
    with += s.final_cost;
    if (!reused) without += s.final_cost;
  }
  return curve;
}

}  // namespace graft::savings
