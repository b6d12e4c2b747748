#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "ops/check.h"

namespace graft {

DecayKind parse_decay_kind(const std::string& name) {
  if (name == "cosine") return DecayKind::cosine;
  if (name == "linear") return DecayKind::linear;
  if (name == "inverse_sqrt") return DecayKind::inverse_sqrt;
  if (name == "constant") return DecayKind::constant;
  throw InputError("unknown LR schedule '" + name +
                   "' (expected cosine, linear, inverse_sqrt or constant)");
}

const char* decay_kind_name(DecayKind kind) {
  switch (kind) {
    case DecayKind::cosine:
      return "cosine";
    case DecayKind::linear:
      return "linear";
    case DecayKind::inverse_sqrt:
      return "inverse_sqrt";
    case DecayKind::constant:
      return "constant";
  }
  return "?";
}

void LrSchedule::validate() const {
  GRAFT_INPUT_CHECK(peak_lr > 0, "lr must be positive, got " << peak_lr);
  GRAFT_INPUT_CHECK(min_lr >= 0 && min_lr <= peak_lr, "min_lr must be in [0, lr], got " << min_lr);
  GRAFT_INPUT_CHECK(warmup_steps >= 0, "warmup_steps must be >= 0, got " << warmup_steps);
  GRAFT_INPUT_CHECK(total_steps >= 1, "total steps must be >= 1, got " << total_steps);
}

double LrSchedule::at(int64_t step) const {
  const int64_t s = std::max<int64_t>(step, 1);
  if (s <= warmup_steps) {
    return peak_lr * static_cast<double>(s) / static_cast<double>(warmup_steps);
  }
  if (decay == DecayKind::constant) return peak_lr;
  if (decay == DecayKind::inverse_sqrt) {
    // T5's rsqrt decay, continuous with the warmup's end.
    const double w = static_cast<double>(std::max<int64_t>(warmup_steps, 1));
    return std::max(min_lr, peak_lr * std::sqrt(w / static_cast<double>(s)));
  }
  const int64_t span = std::max<int64_t>(total_steps - warmup_steps, 1);
  const double progress =
      std::min(1.0, static_cast<double>(s - warmup_steps) / static_cast<double>(span));
  if (decay == DecayKind::linear) return peak_lr - (peak_lr - min_lr) * progress;
  return min_lr + 0.5 * (peak_lr - min_lr) * (1.0 + std::cos(M_PI * progress));
}

}  // namespace graft
