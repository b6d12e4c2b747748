#include "bench/savings/table.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "ops/check.h"

namespace graft::savings {

namespace {

const char* kNotReached = "not reached";

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text)
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Markdown cells cannot hold a raw pipe.
std::string md_cell(const std::string& text) {
  std::string out;
  for (char c : text)
    out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string format_number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.4g", v);
  return buffer;
}

// A side's mean over seeds of one axis at the target, or "not reached" when
// any seed missed it (with how many did).
std::string side_cell(const std::vector<SeedOutcome>& seeds, bool recipe_side,
                      double (*axis)(const CurvePoint&), std::string (*format)(double)) {
  std::vector<std::optional<double>> values;
  for (const SeedOutcome& o : seeds) {
    const auto& p = recipe_side ? o.recipe : o.baseline;
    values.push_back(p ? std::optional<double>(axis(*p)) : std::nullopt);
  }
  const Aggregate a = aggregate(values);
  if (!a.mean) {
    if (a.count == 0) return kNotReached;
    return std::string(kNotReached) + " (" + std::to_string(a.missing) + " of " +
           std::to_string(a.count + a.missing) + " seeds)";
  }
  return format(*a.mean);
}

double axis_model(const CurvePoint& p) {
  return p.with_reused.flops_model;
}
double axis_kaplan(const CurvePoint& p) {
  return p.with_reused.kaplan;
}
double axis_kaplan_emb(const CurvePoint& p) {
  return p.with_reused.kaplan_emb;
}
double axis_steps(const CurvePoint& p) {
  return p.with_reused.steps;
}
std::string format_steps(double s) {
  return format_number(s);
}

std::string wall_cell(const std::vector<SeedOutcome>& seeds, bool recipe_side) {
  std::vector<std::optional<double>> values;
  for (const SeedOutcome& o : seeds) {
    const double w = recipe_side ? o.recipe_wall : o.baseline_wall;
    values.push_back(w >= 0 ? std::optional<double>(w) : std::nullopt);
  }
  const Aggregate a = aggregate(values);
  return a.mean ? format_seconds(*a.mean) : "unknown";
}

std::string savings_cell(const std::vector<SeedOutcome>& seeds, Convention c, bool with_reused) {
  std::vector<std::optional<double>> values;
  for (const SeedOutcome& o : seeds)
    values.push_back(savings(o, c, with_reused));
  const Aggregate a = aggregate(values);
  if (!a.mean) return kNotReached;
  std::string out = format_percent(*a.mean);
  if (a.count >= 2) out += " ± " + format_percent(a.stddev);
  return out;
}

std::string seeds_cell(const std::vector<SeedOutcome>& seeds) {
  std::string out;
  for (const SeedOutcome& o : seeds) {
    if (!out.empty()) out += " ";
    out += o.seed >= 0 ? std::to_string(o.seed) : "?";
  }
  return out;
}

// Per-seed savings (executed model FLOPs, reused cost included), so the
// spread is visible and not only its summary.
std::string per_seed_cell(const std::vector<SeedOutcome>& seeds) {
  std::string out;
  for (const SeedOutcome& o : seeds) {
    if (!out.empty()) out += "; ";
    const auto s = savings(o, Convention::executed_model, true);
    out += (o.seed >= 0 ? std::to_string(o.seed) : "?") + ": " +
           (s ? format_percent(*s) : kNotReached);
  }
  return out;
}

std::string target_cell(const ComparisonResult& r) {
  std::vector<std::optional<double>> targets;
  for (const SeedOutcome& o : r.seeds)
    targets.push_back(o.target);
  const Aggregate a = aggregate(targets);
  const char* op = direction_of(r.spec.metric) == Direction::lower_is_better ? "<=" : ">=";
  std::string out = r.spec.metric + " " + op + " " + (a.mean ? format_number(*a.mean) : "?");
  out += r.spec.target ? " (named)" : " (baseline final)";
  return out;
}

}  // namespace

CurveSpec curve_spec(const ComparisonSpec& spec, bool recipe_side) {
  CurveSpec c;
  c.metric = spec.metric;
  c.curve_stages = recipe_side ? spec.recipe_stages : spec.baseline_stages;
  const auto& reused = recipe_side ? spec.reused_stages : spec.baseline_reused;
  c.reused_stages.insert(reused.begin(), reused.end());
  return c;
}

SeedOutcome measure(const ComparisonSpec& spec, const SeedRuns& runs) {
  GRAFT_CHECK(runs.recipe && runs.baseline, "measure needs both runs");
  const CurveSpec rspec = curve_spec(spec, true), bspec = curve_spec(spec, false);
  const Curve rcurve = build_curve(*runs.recipe, rspec, runs.recipe_also);
  const Curve bcurve = build_curve(*runs.baseline, bspec, runs.baseline_also);
  const Direction dir = direction_of(spec.metric);
  SeedOutcome o;
  o.seed = runs.seed;
  o.target = spec.target ? *spec.target
                         : final_quality(
                               bcurve, "baseline " + runs.baseline->dir + " (" + spec.metric + ")");
  if (auto c = first_reach(rcurve, o.target, dir)) o.recipe = point_at(rcurve, *c);
  if (auto c = first_reach(bcurve, o.target, dir)) o.baseline = point_at(bcurve, *c);
  o.recipe_wall = runs.recipe->wall_seconds;
  o.baseline_wall = runs.baseline->wall_seconds;
  for (const RecipeRun* a : runs.recipe_also)
    o.recipe_wall =
        o.recipe_wall >= 0 && a->wall_seconds >= 0 ? o.recipe_wall + a->wall_seconds : -1;
  for (const RecipeRun* a : runs.baseline_also)
    o.baseline_wall =
        o.baseline_wall >= 0 && a->wall_seconds >= 0 ? o.baseline_wall + a->wall_seconds : -1;
  o.recipe_total = runs.recipe->total_cost();
  for (const RecipeRun* a : runs.recipe_also)
    o.recipe_total += a->total_cost();
  o.baseline_total = runs.baseline->total_cost();
  for (const RecipeRun* a : runs.baseline_also)
    o.baseline_total += a->total_cost();
  return o;
}

std::optional<double> savings(const SeedOutcome& o, Convention convention, bool with_reused) {
  if (!o.recipe || !o.baseline) return std::nullopt;
  const double r =
      flops_of(with_reused ? o.recipe->with_reused : o.recipe->without_reused, convention);
  const double b =
      flops_of(with_reused ? o.baseline->with_reused : o.baseline->without_reused, convention);
  if (!(b > 0)) return std::nullopt;  // a baseline that needed no compute has no ratio
  return 1 - r / b;
}

std::optional<double> step_savings(const SeedOutcome& o) {
  if (!o.recipe || !o.baseline || !(o.baseline->with_reused.steps > 0)) return std::nullopt;
  return 1 - o.recipe->with_reused.steps / o.baseline->with_reused.steps;
}

Aggregate aggregate(const std::vector<std::optional<double>>& values) {
  Aggregate a;
  double sum = 0;
  for (const auto& v : values) {
    if (!v) {
      ++a.missing;
      continue;
    }
    if (a.count == 0 || *v < a.min) a.min = *v;
    if (a.count == 0 || *v > a.max) a.max = *v;
    sum += *v;
    ++a.count;
  }
  if (a.count == 0 || a.missing > 0) return a;
  a.mean = sum / a.count;
  if (a.count >= 2) {
    double ss = 0;
    for (const auto& v : values)
      ss += (*v - *a.mean) * (*v - *a.mean);
    a.stddev = std::sqrt(ss / (a.count - 1));
  }
  return a;
}

ComparisonResult compare(const ComparisonSpec& spec, const std::vector<SeedRuns>& runs) {
  ComparisonResult result;
  result.spec = spec;
  const CurveSpec rspec = curve_spec(spec, true);
  // Keyed by "<run>/<stage>" in first-seen order, averaged over seeds.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const StageRun*>> found;
  for (const SeedRuns& r : runs) {
    result.seeds.push_back(measure(spec, r));
    std::vector<const RecipeRun*> sources = r.recipe_also;
    sources.push_back(r.recipe);
    for (const RecipeRun* run : sources) {
      for (const StageRun& s : run->stages) {
        if (!is_reused(*run, s, rspec)) continue;
        const std::string key = run->name + "/" + s.name;
        if (!found.count(key)) order.push_back(key);
        found[key].push_back(&s);
      }
    }
  }
  for (const std::string& key : order) {
    OneOffCost c;
    c.comparison = spec.name;
    c.stage = key;
    const auto& stages = found[key];
    double wall = 0;
    bool wall_known = true;
    for (const StageRun* s : stages) {
      c.cost += s->final_cost;
      wall += s->wall_seconds;
      wall_known = wall_known && s->wall_seconds >= 0;
    }
    const double n = static_cast<double>(stages.size());
    c.cost = lerp(Cost{}, c.cost, 1 / n);
    c.wall_seconds = wall_known ? wall / n : -1;
    c.seeds = static_cast<int>(stages.size());
    result.one_offs.push_back(c);
  }
  return result;
}

std::string format_flops(double flops) {
  if (!std::isfinite(flops)) return "?";
  if (flops == 0) return "0";
  char buffer[32];
  const int exponent = static_cast<int>(std::floor(std::log10(std::fabs(flops))));
  const double mantissa = flops / std::pow(10.0, exponent);
  std::snprintf(buffer, sizeof(buffer), "%.2fe%d", mantissa, exponent);
  // 9.999e14 rounds to "10.00e14": renormalise.
  if (std::string(buffer).rfind("10.00e", 0) == 0 || std::string(buffer).rfind("-10.00e", 0) == 0)
    std::snprintf(buffer, sizeof(buffer), "%.2fe%d", mantissa / 10, exponent + 1);
  return buffer;
}

std::string format_percent(double fraction) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f%%", 100 * fraction);
  return buffer;
}

std::string format_seconds(double seconds) {
  if (seconds < 0) return "unknown";
  char buffer[32];
  if (seconds < 600) {
    std::snprintf(buffer, sizeof(buffer), "%.0f s", seconds);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.1f min", seconds / 60);
  }
  return buffer;
}

std::string table_csv(const std::vector<ComparisonResult>& results) {
  std::ostringstream out;
  out << "kind,comparison,recipe,baseline,metric,target,target_source,"
         "recipe_flops_model,baseline_flops_model,recipe_flops_6nd,baseline_flops_6nd,"
         "recipe_flops_6nd_emb,baseline_flops_6nd_emb,recipe_steps,baseline_steps,"
         "recipe_wall_s,baseline_wall_s,savings_model,savings_model_without_reused,"
         "savings_6nd,savings_6nd_without_reused,savings_steps,savings_model_stddev,"
         "seeds,savings_per_seed,paper\n";
  const auto num = [](const std::optional<double>& v) {
    return v ? format_number(*v) : std::string(kNotReached);
  };
  const auto full = [](double v) {
    char b[32];
    std::snprintf(b, sizeof(b), "%.6g", v);
    return std::string(b);
  };
  for (const ComparisonResult& r : results) {
    const auto mean_of = [&](auto get) {
      std::vector<std::optional<double>> v;
      for (const SeedOutcome& o : r.seeds)
        v.push_back(get(o));
      return aggregate(v);
    };
    const auto side = [&](bool recipe_side, double (*axis)(const CurvePoint&)) {
      const Aggregate a = mean_of([&](const SeedOutcome& o) -> std::optional<double> {
        const auto& p = recipe_side ? o.recipe : o.baseline;
        return p ? std::optional<double>(axis(*p)) : std::nullopt;
      });
      return a.mean ? full(*a.mean) : std::string(kNotReached);
    };
    const auto wall = [&](bool recipe_side) {
      const Aggregate a = mean_of([&](const SeedOutcome& o) -> std::optional<double> {
        const double w = recipe_side ? o.recipe_wall : o.baseline_wall;
        return w >= 0 ? std::optional<double>(w) : std::nullopt;
      });
      return a.mean ? full(*a.mean) : std::string("unknown");
    };
    const auto sav = [&](Convention c, bool with) {
      return num(mean_of([&](const SeedOutcome& o) { return savings(o, c, with); }).mean);
    };
    const Aggregate target = mean_of([](const SeedOutcome& o) { return std::optional(o.target); });
    const Aggregate model =
        mean_of([](const SeedOutcome& o) { return savings(o, Convention::executed_model, true); });
    out << "comparison," << csv_field(r.spec.name) << "," << csv_field(r.spec.recipe) << ","
        << csv_field(r.spec.baseline) << "," << r.spec.metric << ","
        << (target.mean ? full(*target.mean) : "") << ","
        << (r.spec.target ? "named" : "baseline final") << "," << side(true, axis_model) << ","
        << side(false, axis_model) << "," << side(true, axis_kaplan) << ","
        << side(false, axis_kaplan) << "," << side(true, axis_kaplan_emb) << ","
        << side(false, axis_kaplan_emb) << "," << side(true, axis_steps) << ","
        << side(false, axis_steps) << "," << wall(true) << "," << wall(false) << ","
        << sav(Convention::executed_model, true) << "," << sav(Convention::executed_model, false)
        << "," << sav(Convention::kaplan, true) << "," << sav(Convention::kaplan, false) << ","
        << num(mean_of([](const SeedOutcome& o) { return step_savings(o); }).mean) << ","
        << (model.count >= 2 && model.mean ? full(model.stddev) : "") << ","
        << csv_field(seeds_cell(r.seeds)) << "," << csv_field(per_seed_cell(r.seeds)) << ","
        << csv_field(r.spec.paper) << "\n";
    for (const OneOffCost& c : r.one_offs) {
      out << "one-off," << csv_field(r.spec.name) << "," << csv_field(c.stage) << ",,,,,"
          << full(c.cost.flops_model) << ",," << full(c.cost.kaplan) << ",,"
          << full(c.cost.kaplan_emb) << ",," << full(c.cost.steps) << ",,"
          << (c.wall_seconds >= 0 ? full(c.wall_seconds) : "unknown") << ",,,,,,,," << c.seeds
          << ",,\n";
    }
  }
  return out.str();
}

std::string table_markdown(const std::vector<ComparisonResult>& results, const std::string& title) {
  std::ostringstream out;
  out << "# " << title << "\n\n";
  out << "| recipe | baseline | metric, target | FLOPs to target, recipe / baseline "
         "(executed model) | 6·N·D to target, recipe / baseline (N w/o emb.; with emb.) | "
         "steps, recipe / baseline | wall time, recipe / baseline | savings (reused "
         "checkpoints' cost included) | savings (excluded) | savings 6·N·D (incl. / excl.) | "
         "savings in steps | paper | seeds |\n";
  out << "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const ComparisonResult& r : results) {
    const auto& s = r.seeds;
    const auto pair = [&](double (*axis)(const CurvePoint&), std::string (*format)(double)) {
      return side_cell(s, true, axis, format) + " / " + side_cell(s, false, axis, format);
    };
    std::vector<std::optional<double>> steps;
    for (const SeedOutcome& o : s)
      steps.push_back(step_savings(o));
    const Aggregate step_agg = aggregate(steps);
    out << "| " << md_cell(r.spec.name) << " | " << md_cell(r.spec.baseline) << " | "
        << md_cell(target_cell(r)) << " | " << pair(axis_model, format_flops) << " | "
        << pair(axis_kaplan, format_flops) << "; " << pair(axis_kaplan_emb, format_flops) << " | "
        << pair(axis_steps, format_steps) << " | " << wall_cell(s, true) << " / "
        << wall_cell(s, false) << " | " << savings_cell(s, Convention::executed_model, true)
        << " | " << savings_cell(s, Convention::executed_model, false) << " | "
        << savings_cell(s, Convention::kaplan, true) << " / "
        << savings_cell(s, Convention::kaplan, false) << " | "
        << (step_agg.mean ? format_percent(*step_agg.mean) : kNotReached) << " | "
        << md_cell(r.spec.paper) << " | " << seeds_cell(s)
        << (s.size() >= 2 ? " (" + md_cell(per_seed_cell(s)) + ")" : "") << " |\n";
    for (const OneOffCost& c : r.one_offs) {
      out << "| one-off: " << md_cell(c.stage) << " | | (" << md_cell(r.spec.name)
          << "'s reused checkpoint) | " << format_flops(c.cost.flops_model) << " | "
          << format_flops(c.cost.kaplan) << "; " << format_flops(c.cost.kaplan_emb) << " | "
          << format_number(c.cost.steps) << " | " << format_seconds(c.wall_seconds)
          << " | | | | | | " << c.seeds << " run(s) |\n";
    }
  }
  out << "\nFLOPs are executed FLOPs from graft's ledger (matmul + attention, forward and "
         "backward, summed over ranks and over every stage up to the point where the run "
         "first reaches the target, linearly interpolated between evaluations), and "
         "Kaplan's 6·N·D with N from the model config and D the tokens trained. A "
         "recipe's reused / one-off stages (listed as one-off rows) are counted in "
         "\"included\" and left out of \"excluded\". \"not reached\" means the run never "
         "met the target at any evaluation; nothing is extrapolated. Savings = 1 − "
         "FLOPs(recipe) / FLOPs(baseline), mean ± sample standard deviation over seeds.\n";
  return out.str();
}

}  // namespace graft::savings
