// Learning-rate schedules: linear warmup, then cosine, linear, inverse-sqrt or
// constant. Steps count from 1 (the first optimizer update uses step 1).
#pragma once

#include <cstdint>
#include <string>

namespace graft {

enum class DecayKind { cosine, linear, inverse_sqrt, constant };

DecayKind parse_decay_kind(const std::string& name);  // InputError on an unknown name
const char* decay_kind_name(DecayKind kind);

struct LrSchedule {
  double peak_lr = 1e-3;
  double min_lr = 0.0;       // floor reached at total_steps (cosine, linear)
  int64_t warmup_steps = 0;  // linear ramp from peak/warmup to peak
  int64_t total_steps = 1;   // decay horizon
  DecayKind decay = DecayKind::cosine;

  double at(int64_t step) const;
  void validate() const;  // InputError naming the bad field
};

}  // namespace graft
