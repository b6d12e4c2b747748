#include "train/optimizer.h"

namespace graft {

AdamW::AdamW(const Parameters& params, AdamWOptions options,
             std::vector<std::string> no_decay_patterns)
    : params_(params), options_(options), no_decay_patterns_(std::move(no_decay_patterns)) {
  for (const NamedParameter& p : params_.entries()) {
    ParameterState s;
    s.m = Tensor::zeros(p.tensor.shape(), p.tensor.dtype());
    s.v = Tensor::zeros(p.tensor.shape(), p.tensor.dtype());
    state_.emplace(p.name, std::move(s));
  }
}

bool AdamW::decays(const std::string& name) const {
  for (const std::string& pattern : no_decay_patterns_) {
    if (glob_match(pattern, name)) return false;
  }
  return true;
}

void AdamW::step(double lr) {
  for (const NamedParameter& p : params_.entries()) {
    if (!p.tensor.requires_grad() || !p.tensor.has_grad()) continue;
    ParameterState& s = state_.at(p.name);
    AdamWOptions o = options_;
    o.lr = lr;
    if (!decays(p.name)) o.weight_decay = 0;
    s.step += 1;
    adamw_step(p.tensor, p.tensor.grad(), s.m, s.v, s.step, o);
  }
}

}  // namespace graft
