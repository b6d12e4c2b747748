#include "bench/savings/plot.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ops/check.h"

namespace graft::savings {

namespace fs = std::filesystem;

namespace {

// gnuplot single-quoted strings take '' for a quote and nothing else special.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text)
    out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// Shell single quotes for the gnuplot command line.
std::string shell_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

PlotSeries series_of(const Curve& curve, bool with_reused, const std::string& title,
                     PlotSeries::Style style, int color, int point_type) {
  PlotSeries s;
  s.point_type = point_type;
  s.title = title;
  s.style = style;
  s.color = color;
  for (const CurvePoint& p : curve) {
    const double x = with_reused ? p.with_reused.flops_model : p.without_reused.flops_model;
    if (x > 0) s.points.emplace_back(x, p.quality);
  }
  return s;
}

std::string seed_suffix(int64_t seed, size_t seeds) {
  return seeds > 1 || seed >= 0 ? " (seed " + (seed >= 0 ? std::to_string(seed) : "?") + ")" : "";
}

// Filled circle, square, triangle, diamond: one per seed.
const int kMarkers[] = {7, 5, 9, 13};

}  // namespace

PlotSpec comparison_plot(const ComparisonResult& result, const std::vector<SeedRuns>& runs) {
  const ComparisonSpec& spec = result.spec;
  PlotSpec plot;
  plot.title = spec.name + " vs " + spec.baseline + ": " + spec.metric + " vs executed FLOPs";
  plot.xlabel = "executed model FLOPs (ledger; summed over ranks and stages)";
  plot.ylabel = spec.metric;
  const CurveSpec rspec = curve_spec(spec, true), bspec = curve_spec(spec, false);
  PlotSeries crossings;
  crossings.title = "first reaches the target";
  crossings.style = PlotSeries::Style::points;
  crossings.color = 8;
  for (size_t i = 0; i < runs.size(); ++i) {
    const SeedRuns& r = runs[i];
    const std::string suffix = seed_suffix(r.seed, runs.size());
    const Curve rc = build_curve(*r.recipe, rspec, r.recipe_also);
    const Curve bc = build_curve(*r.baseline, bspec, r.baseline_also);
    const int marker = kMarkers[i % (sizeof(kMarkers) / sizeof(kMarkers[0]))];
    plot.series.push_back(
        series_of(rc, true, spec.name + suffix, PlotSeries::Style::line, 1, marker));
    // Only worth a line when leaving the reused cost out moves the curve.
    bool differs = false;
    for (const CurvePoint& p : rc)
      differs = differs || p.without_reused.flops_model != p.with_reused.flops_model;
    if (differs)
      plot.series.push_back(series_of(rc, false, spec.name + " without reused checkpoints" + suffix,
                                      PlotSeries::Style::dashed, 1, marker));
    plot.series.push_back(
        series_of(bc, true, spec.baseline + suffix, PlotSeries::Style::line, 2, marker));
    if (i < result.seeds.size()) {
      const SeedOutcome& o = result.seeds[i];
      if (o.recipe && o.recipe->with_reused.flops_model > 0)
        crossings.points.emplace_back(o.recipe->with_reused.flops_model, o.target);
      if (o.baseline && o.baseline->with_reused.flops_model > 0)
        crossings.points.emplace_back(o.baseline->with_reused.flops_model, o.target);
    }
  }
  if (!crossings.points.empty()) plot.series.push_back(crossings);
  std::string values;
  for (const SeedOutcome& o : result.seeds) {
    if (std::find(plot.targets.begin(), plot.targets.end(), o.target) != plot.targets.end())
      continue;
    plot.targets.push_back(o.target);
    char v[32];
    std::snprintf(v, sizeof(v), "%s%.4g", values.empty() ? "" : ", ", o.target);
    values += v;
  }
  if (!plot.targets.empty()) {
    plot.target_label = "target " + spec.metric + " " + values +
                        (spec.target               ? " (named)"
                         : plot.targets.size() > 1 ? " (each seed's baseline final)"
                                                   : " (baseline final)");
  }
  return plot;
}

std::string gnuplot_script(const PlotSpec& spec, const std::string& png_path) {
  std::ostringstream out;
  out.precision(10);
  out << "# Written by graft's savings harness (bench/savings/plot.cpp); run `gnuplot "
         "<this file>` to redraw.\n";
  out << "set terminal pngcairo size 1000,760 noenhanced font 'sans,10'\n";
  out << "set output " << quoted(png_path) << "\n";
  out << "set title " << quoted(spec.title) << "\n";
  out << "set xlabel " << quoted(spec.xlabel) << "\n";
  out << "set ylabel " << quoted(spec.ylabel) << "\n";
  out << "set logscale x\nset format x '%.0e'\nset grid\nset key below maxrows 4\n";
  std::vector<size_t> drawn;
  for (size_t i = 0; i < spec.series.size(); ++i) {
    if (spec.series[i].points.empty()) continue;
    drawn.push_back(i);
    out << "$s" << i << " << EOD\n";
    for (const auto& [x, y] : spec.series[i].points)
      out << x << " " << y << "\n";
    out << "EOD\n";
  }
  std::vector<std::string> items;
  for (size_t i : drawn) {
    const PlotSeries& s = spec.series[i];
    std::string item = "$s" + std::to_string(i) + " using 1:2 ";
    switch (s.style) {
      case PlotSeries::Style::line:
        item += "with linespoints pt " + std::to_string(s.point_type) + " ps 0.8 lw 2";
        break;
      case PlotSeries::Style::dashed:
        item += "with lines dt 2 lw 2";
        break;
      case PlotSeries::Style::points:
        item += "with points pt 6 ps 1.8 lw 2";
        break;
    }
    item += " lc " + std::to_string(s.color) + " title " + quoted(s.title);
    items.push_back(item);
  }
  if (!spec.targets.empty()) {
    // Arrows span the whole x range (a constant function would stop at the
    // data's ends); the NaN series only puts them in the key.
    for (size_t i = 0; i < spec.targets.size(); ++i) {
      out << "set arrow " << i + 1 << " from graph 0, first " << spec.targets[i]
          << " to graph 1, first " << spec.targets[i] << " nohead dt 3 lw 2 lc rgb 'black'\n";
    }
    items.push_back("NaN with lines dt 3 lw 2 lc rgb 'black' title " + quoted(spec.target_label));
  }
  if (items.empty()) {
    // gnuplot refuses an empty plot command; say so on the image instead.
    out << "set label 1 'no evaluations with FLOPs > 0 yet' at graph 0.5,0.5 center\n"
           "unset logscale x\nplot [0:1][0:1] NaN notitle\n";
  } else {
    out << "plot ";
    for (size_t i = 0; i < items.size(); ++i)
      out << (i ? ", \\\n     " : "") << items[i];
    out << "\n";
  }
  out << "unset output\n";
  return out.str();
}

bool gnuplot_available() {
  static const bool available = std::system("gnuplot --version > /dev/null 2>&1") == 0;
  return available;
}

std::string render_plot(const PlotSpec& spec, const std::string& dir, const std::string& stem,
                        std::string* why) {
  fs::create_directories(dir);
  const std::string png = (fs::path(dir) / (stem + ".png")).string();
  const std::string script = (fs::path(dir) / (stem + ".gp")).string();
  {
    std::ofstream out(script);
    GRAFT_INPUT_CHECK(out, "cannot write " << script);
    out << gnuplot_script(spec, png);
  }
  if (!gnuplot_available()) {
    if (why) *why = "gnuplot not found (apt-get install gnuplot-nox); script left at " + script;
    return "";
  }
  const std::string log = (fs::path(dir) / (stem + ".gnuplot.log")).string();
  const int rc = std::system(
      ("gnuplot " + shell_quoted(script) + " > " + shell_quoted(log) + " 2>&1").c_str());
  if (rc != 0 || !fs::exists(png) || fs::file_size(png) == 0) {
    if (why) *why = "gnuplot failed on " + script + " (see " + log + ")";
    return "";
  }
  fs::remove(log);
  return png;
}

}  // namespace graft::savings
