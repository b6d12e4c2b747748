// AdamW over a model's named parameters.
//
// State is kept per parameter name (moments and its own step count, like
// PyTorch): a parameter frozen for the first half of a stage starts its bias
// correction at its first real update, not at the global step. Parameters
// matching a no-decay pattern (biases, norm weights by default) get no weight
// decay. Checkpoints read and write the state by name.
//
// Mixed precision: a bf16 parameter (on the GPU) gets f32 moments and an f32
// master copy; updates run on the master and the parameter receives it
// rounded to bf16. GPU parameters are updated by one multi-tensor launch.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "model/parameters.h"
#include "ops/adamw.h"

namespace graft {

struct ParameterState {
  Tensor m;       // first moment (f32 for a bf16 parameter)
  Tensor v;       // second moment (f32 for a bf16 parameter)
  Tensor master;  // f32 master copy of a bf16 parameter; undefined otherwise
  int64_t step = 0;
};

class AdamW {
 public:
  AdamW(const Parameters& params, AdamWOptions options,
        std::vector<std::string> no_decay_patterns = {"*.bias", "*norm*.weight"});

  // One update with learning rate lr of every trainable parameter that has a
  // gradient; the others (frozen, unused) are left untouched, moments too.
  void step(double lr);

  const AdamWOptions& options() const { return options_; }
  std::map<std::string, ParameterState>& state() { return state_; }
  const std::map<std::string, ParameterState>& state() const { return state_; }
  bool decays(const std::string& name) const;
  // Re-makes each f32 master copy from its bf16 parameter (after parameters
  // were loaded from a checkpoint, which holds the bf16 values).
  void refresh_masters();

 private:
  const Parameters& params_;
  AdamWOptions options_;
  std::vector<std::string> no_decay_patterns_;
  std::map<std::string, ParameterState> state_;
};

}  // namespace graft
