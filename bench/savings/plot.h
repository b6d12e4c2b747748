// Quality-vs-FLOPs plots with gnuplot: one self-contained script per
// comparison (the curves as inline datablocks, so the .gp file alone
// reproduces the PNG), rendered when a gnuplot binary is on PATH.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "bench/savings/table.h"

namespace graft::savings {

struct PlotSeries {
  enum class Style { line, dashed, points };
  std::string title;
  std::vector<std::pair<double, double>> points;  // (FLOPs, quality)
  Style style = Style::line;
  int color = 1;       // gnuplot linetype: recipe and baseline keep their colour across seeds
  int point_type = 7;  // and seeds differ by marker
};

struct PlotSpec {
  std::string title;
  std::string xlabel;
  std::string ylabel;
  // One per seed (each seed's baseline sets its own); equal ones drawn once.
  std::vector<double> targets;
  std::string target_label;
  std::vector<PlotSeries> series;
};

// Recipe (solid; dashed: reused checkpoints' cost left out) and baseline
// curves of every seed on the executed-model-FLOPs axis, the target line,
// and each seed's interpolated crossing. Points at 0 FLOPs (the initial
// evaluation of a first stage) cannot sit on a log axis and are left out.
PlotSpec comparison_plot(const ComparisonResult& result, const std::vector<SeedRuns>& runs);

// The whole gnuplot script: PNG terminal, log-x axis, datablocks, plot.
std::string gnuplot_script(const PlotSpec& spec, const std::string& png_path);

// True when `gnuplot` runs (checked once per process).
bool gnuplot_available();

// Writes <dir>/<stem>.gp and, when gnuplot is available, runs it to make
// <dir>/<stem>.png. Returns the PNG's path, or empty with *why set when no
// PNG was made (the script is still there to run by hand).
std::string render_plot(const PlotSpec& spec, const std::string& dir, const std::string& stem,
                        std::string* why = nullptr);

}  // namespace graft::savings
