#include "bench/savings/curve.h"

#include <algorithm>
#include <cmath>

#include "ops/check.h"

namespace graft::savings {

Cost& Cost::operator+=(const Cost& o) {
  flops_model += o.flops_model;
  flops_total += o.flops_total;
  kaplan += o.kaplan;
  kaplan_emb += o.kaplan_emb;
  steps += o.steps;
  tokens += o.tokens;
  return *this;
}

Cost operator-(const Cost& a, const Cost& b) {
  Cost c;
  c.flops_model = a.flops_model - b.flops_model;
  c.flops_total = a.flops_total - b.flops_total;
  c.kaplan = a.kaplan - b.kaplan;
  c.kaplan_emb = a.kaplan_emb - b.kaplan_emb;
  c.steps = a.steps - b.steps;
  c.tokens = a.tokens - b.tokens;
  return c;
}

Cost lerp(const Cost& a, const Cost& b, double t) {
  const auto mix = [t](double x, double y) { return x + t * (y - x); };
  Cost c;
  c.flops_model = mix(a.flops_model, b.flops_model);
  c.flops_total = mix(a.flops_total, b.flops_total);
  c.kaplan = mix(a.kaplan, b.kaplan);
  c.kaplan_emb = mix(a.kaplan_emb, b.kaplan_emb);
  c.steps = mix(a.steps, b.steps);
  c.tokens = mix(a.tokens, b.tokens);
  return c;
}

double flops_of(const Cost& c, Convention convention) {
  switch (convention) {
    case Convention::executed_model:
      return c.flops_model;
    case Convention::executed_total:
      return c.flops_total;
    case Convention::kaplan:
      return c.kaplan;
    case Convention::kaplan_emb:
      return c.kaplan_emb;
  }
  return 0;
}

const char* convention_name(Convention convention) {
  switch (convention) {
    case Convention::executed_model:
      return "executed model FLOPs";
    case Convention::executed_total:
      return "executed FLOPs (all)";
    case Convention::kaplan:
      return "6ND (N without embeddings)";
    case Convention::kaplan_emb:
      return "6ND (N with embeddings)";
  }
  return "?";
}

Direction direction_of(const std::string& metric) {
  if (metric == "val_loss" || metric == "val_ppl" || metric == "val_bits_per_byte")
    return Direction::lower_is_better;
  if (metric == "val_accuracy") return Direction::higher_is_better;
  throw InputError("unknown metric '" + metric +
                   "' (val_loss, val_ppl, val_bits_per_byte, val_accuracy)");
}

bool meets(double quality, double target, Direction direction) {
  return direction == Direction::lower_is_better ? quality <= target : quality >= target;
}

std::optional<Crossing> first_reach(const Curve& curve, double target, Direction direction) {
  for (size_t i = 0; i < curve.size(); ++i) {
    const double q = curve[i].quality;
    if (!std::isfinite(q) || !meets(q, target, direction)) continue;
    if (i == 0) return Crossing{0, 1};
    const double prev = curve[i - 1].quality;
    // A non-finite previous evaluation gives no line to interpolate along:
    // the crossing is taken at this evaluation, never earlier.
    if (!std::isfinite(prev) || prev == q) return Crossing{i, 1};
    const double t = (prev - target) / (prev - q);
    return Crossing{i, std::clamp(t, 0.0, 1.0)};
  }
  return std::nullopt;
}

CurvePoint point_at(const Curve& curve, const Crossing& crossing) {
  GRAFT_CHECK(crossing.index < curve.size(), "crossing past the curve's end");
  const CurvePoint& b = curve[crossing.index];
  if (crossing.index == 0) return b;
  const CurvePoint& a = curve[crossing.index - 1];
  CurvePoint p;
  p.with_reused = lerp(a.with_reused, b.with_reused, crossing.t);
  p.without_reused = lerp(a.without_reused, b.without_reused, crossing.t);
  p.quality = a.quality + crossing.t * (b.quality - a.quality);
  return p;
}

double final_quality(const Curve& curve, const std::string& what) {
  GRAFT_INPUT_CHECK(!curve.empty(), what << " has no evaluations to take a final quality from");
  for (auto it = curve.rbegin(); it != curve.rend(); ++it)
    if (std::isfinite(it->quality)) return it->quality;
  throw InputError(what + " has no finite evaluation");
}

}  // namespace graft::savings
