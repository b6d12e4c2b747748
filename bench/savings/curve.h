// Quality-vs-cost curves and "first reaches the target" with linear
// interpolation between evaluations: the arithmetic of RECIPES.md's "How the
// harness measures savings". No I/O here, so the tests can feed hand-made
// curves with exact answers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace graft::savings {

// Every axis a row of the table reports, cumulative from the start of the
// run (earlier stages included). All are linear in training progress between
// two evaluations, so one interpolation fraction serves them all.
struct Cost {
  double flops_model = 0;  // executed matmul + attention FLOPs (the ledger)
  double flops_total = 0;  // executed, element-wise work included
  double kaplan = 0;       // 6·N·D, N without embeddings
  double kaplan_emb = 0;   // 6·N·D, N with embeddings
  double steps = 0;
  double tokens = 0;

  Cost& operator+=(const Cost& o);
  friend Cost operator+(Cost a, const Cost& b) { return a += b; }
  friend Cost operator-(const Cost& a, const Cost& b);
};

// a + t·(b − a), axis by axis.
Cost lerp(const Cost& a, const Cost& b, double t);

// Which FLOPs convention a figure uses.
enum class Convention { executed_model, executed_total, kaplan, kaplan_emb };
double flops_of(const Cost& c, Convention convention);
const char* convention_name(Convention convention);

enum class Direction { lower_is_better, higher_is_better };

// Loss, perplexity and bits per byte fall as a model improves; accuracy
// rises. InputError for a metric it does not know.
Direction direction_of(const std::string& metric);
bool meets(double quality, double target, Direction direction);

struct CurvePoint {
  Cost with_reused;     // every FLOP executed to get here, reused checkpoints' own cost included
  Cost without_reused;  // the same with the one-off / reused stages' cost left out
  double quality = 0;
};
using Curve = std::vector<CurvePoint>;

// Where a curve first reaches the target: between points index-1 and index
// at fraction t (index 0, t 1 when the very first point already meets it).
struct Crossing {
  size_t index = 0;
  double t = 1;
};

// nullopt when no point meets the target: the caller says "not reached" and
// never extrapolates past the last evaluation.
std::optional<Crossing> first_reach(const Curve& curve, double target, Direction direction);

// The interpolated costs at a crossing.
CurvePoint point_at(const Curve& curve, const Crossing& crossing);

// The last point's quality: a baseline's final quality, the default target.
// InputError when the curve is empty.
double final_quality(const Curve& curve, const std::string& what);

}  // namespace graft::savings
