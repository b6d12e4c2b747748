#include <gtest/gtest.h>

#include <cmath>

#include "ops/check.h"
#include "train/lr_schedule.h"

namespace graft {
namespace {

LrSchedule make(DecayKind decay) {
  LrSchedule s;
  s.peak_lr = 1e-3;
  s.min_lr = 1e-4;
  s.warmup_steps = 10;
  s.total_steps = 110;
  s.decay = decay;
  return s;
}

TEST(LrSchedule, WarmupIsLinearToThePeak) {
  for (DecayKind kind : {DecayKind::cosine, DecayKind::linear, DecayKind::inverse_sqrt}) {
    LrSchedule s = make(kind);
    EXPECT_DOUBLE_EQ(s.at(1), 1e-4);
    EXPECT_DOUBLE_EQ(s.at(5), 5e-4);
    EXPECT_DOUBLE_EQ(s.at(10), 1e-3);
  }
}

TEST(LrSchedule, CosineHitsHalfwayAndFloor) {
  LrSchedule s = make(DecayKind::cosine);
  EXPECT_NEAR(s.at(60), 1e-4 + 0.5 * 9e-4, 1e-15);  // progress 0.5: cos = 0
  EXPECT_NEAR(s.at(110), 1e-4, 1e-15);
  EXPECT_NEAR(s.at(500), 1e-4, 1e-15);  // stays at the floor past the horizon
  EXPECT_NEAR(s.at(35), 1e-4 + 0.5 * 9e-4 * (1 + std::cos(M_PI * 0.25)), 1e-15);
}

TEST(LrSchedule, LinearAndInverseSqrt) {
  EXPECT_NEAR(make(DecayKind::linear).at(85), 1e-3 - 9e-4 * 0.75, 1e-15);
  EXPECT_NEAR(make(DecayKind::inverse_sqrt).at(40), 1e-3 * std::sqrt(10.0 / 40.0), 1e-15);
  EXPECT_DOUBLE_EQ(make(DecayKind::constant).at(77), 1e-3);
}

TEST(LrSchedule, BadValuesAndNamesAreInputErrors) {
  LrSchedule s = make(DecayKind::cosine);
  s.min_lr = 1.0;
  EXPECT_THROW(s.validate(), InputError);
  EXPECT_THROW(parse_decay_kind("cosin"), InputError);
  EXPECT_EQ(parse_decay_kind("inverse_sqrt"), DecayKind::inverse_sqrt);
}

}  // namespace
}  // namespace graft
