// The interpolation and savings arithmetic on hand-made curves, with exact
// answers.
#include <gtest/gtest.h>

#include <cmath>

#include "bench/savings/curve.h"
#include "bench/savings/table.h"
#include "ops/check.h"

namespace graft::savings {
namespace {

// Quality q[i] at FLOPs x[i]; steps = 10·i; without_reused = x − offset.
Curve make_curve(const std::vector<double>& x, const std::vector<double>& q, double offset = 0) {
  Curve c;
  for (size_t i = 0; i < x.size(); ++i) {
    CurvePoint p;
    p.with_reused.flops_model = x[i];
    p.with_reused.kaplan = 2 * x[i];
    p.with_reused.steps = 10.0 * i;
    p.without_reused = p.with_reused;
    p.without_reused.flops_model = x[i] - offset;
    p.quality = q[i];
    c.push_back(p);
  }
  return c;
}

TEST(SavingsCurve, LowerIsBetterInterpolatesBetweenEvaluations) {
  const Curve c = make_curve({0, 100, 200, 300}, {5, 4, 3, 2});
  const auto x = first_reach(c, 2.5, Direction::lower_is_better);
  ASSERT_TRUE(x);
  EXPECT_EQ(x->index, 3u);
  EXPECT_DOUBLE_EQ(x->t, 0.5);
  const CurvePoint p = point_at(c, *x);
  EXPECT_DOUBLE_EQ(p.with_reused.flops_model, 250);
  EXPECT_DOUBLE_EQ(p.with_reused.kaplan, 500);
  EXPECT_DOUBLE_EQ(p.with_reused.steps, 25);
  EXPECT_DOUBLE_EQ(p.quality, 2.5);
}

TEST(SavingsCurve, ExactHitNeedsNoInterpolation) {
  const Curve c = make_curve({0, 100, 200}, {5, 4, 3});
  const CurvePoint p = point_at(c, *first_reach(c, 4, Direction::lower_is_better));
  EXPECT_DOUBLE_EQ(p.with_reused.flops_model, 100);
}

TEST(SavingsCurve, HigherIsBetterForAccuracy) {
  const Curve c = make_curve({0, 100, 200}, {0.1, 0.3, 0.5});
  const CurvePoint p = point_at(c, *first_reach(c, 0.4, Direction::higher_is_better));
  EXPECT_DOUBLE_EQ(p.with_reused.flops_model, 150);
  // Read as lower-is-better the very first point (0.1 <= 0.4) already meets it.
  const auto low = first_reach(c, 0.4, Direction::lower_is_better);
  ASSERT_TRUE(low);
  EXPECT_EQ(low->index, 0u);
}

TEST(SavingsCurve, NotReachedIsNeverExtrapolated) {
  // Still falling steeply at the end: a line through the last two points
  // would reach 1.5 at 350, but the harness must say "not reached".
  const Curve c = make_curve({0, 100, 200, 300}, {5, 4, 3, 2});
  EXPECT_FALSE(first_reach(c, 1.5, Direction::lower_is_better));
  EXPECT_FALSE(first_reach(Curve{}, 1.5, Direction::lower_is_better));
}

TEST(SavingsCurve, FirstCrossingWinsOnANonMonotoneCurve) {
  const Curve c = make_curve({0, 100, 200, 300}, {5, 3, 4, 2});
  const CurvePoint p = point_at(c, *first_reach(c, 3.5, Direction::lower_is_better));
  EXPECT_DOUBLE_EQ(p.with_reused.flops_model, 75);
}

TEST(SavingsCurve, NonFiniteEvaluationsAreSkipped) {
  const double nan = std::nan("");
  const Curve c = make_curve({0, 100, 200}, {5, nan, 3});
  const auto x = first_reach(c, 4, Direction::lower_is_better);
  ASSERT_TRUE(x);
  // No line runs through a NaN: the crossing is taken at the next evaluation.
  EXPECT_DOUBLE_EQ(point_at(c, *x).with_reused.flops_model, 200);
  EXPECT_DOUBLE_EQ(final_quality(make_curve({0, 1}, {3, nan}), "run"), 3);
}

TEST(SavingsCurve, MetricDirections) {
  EXPECT_EQ(direction_of("val_loss"), Direction::lower_is_better);
  EXPECT_EQ(direction_of("val_ppl"), Direction::lower_is_better);
  EXPECT_EQ(direction_of("val_bits_per_byte"), Direction::lower_is_better);
  EXPECT_EQ(direction_of("val_accuracy"), Direction::higher_is_better);
  EXPECT_THROW(direction_of("bleu"), InputError);
}

TEST(SavingsCurve, SavingsWithAndWithoutReusedCost) {
  // Recipe: 40 of reused stage-1 cost before its curve; baseline none.
  const Curve r = make_curve({40, 90, 140}, {5, 3, 2}, 40);
  const Curve b = make_curve({0, 100, 200}, {5, 3, 2});
  SeedOutcome o;
  o.target = 2;
  o.recipe = point_at(r, *first_reach(r, 2, Direction::lower_is_better));
  o.baseline = point_at(b, *first_reach(b, 2, Direction::lower_is_better));
  EXPECT_DOUBLE_EQ(*savings(o, Convention::executed_model, true), 1 - 140.0 / 200);
  EXPECT_DOUBLE_EQ(*savings(o, Convention::executed_model, false), 1 - 100.0 / 200);
  EXPECT_DOUBLE_EQ(*savings(o, Convention::kaplan, true), 1 - 280.0 / 400);
  EXPECT_DOUBLE_EQ(*step_savings(o), 1 - 20.0 / 20);
  o.recipe.reset();
  EXPECT_FALSE(savings(o, Convention::executed_model, true));
}

TEST(SavingsCurve, AggregateNeverAveragesAwayANotReached) {
  const Aggregate a = aggregate({0.2, 0.4});
  ASSERT_TRUE(a.mean);
  EXPECT_DOUBLE_EQ(*a.mean, 0.3);
  EXPECT_NEAR(a.stddev, std::sqrt(0.02), 1e-15);
  const Aggregate b = aggregate({0.2, std::nullopt});
  EXPECT_FALSE(b.mean);
  EXPECT_EQ(b.count, 1);
  EXPECT_EQ(b.missing, 1);
}

}  // namespace
}  // namespace graft::savings
