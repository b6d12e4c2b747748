#include "train/optimizer.h"

namespace graft {

AdamW::AdamW(const Parameters& params, AdamWOptions options,
             std::vector<std::string> no_decay_patterns)
    : params_(params), options_(options), no_decay_patterns_(std::move(no_decay_patterns)) {
  for (const NamedParameter& p : params_.entries()) {
    ParameterState s;
    const bool mixed = p.tensor.dtype() == DType::bf16;
    const DType state_dtype = mixed ? DType::f32 : p.tensor.dtype();
    s.m = Tensor::zeros(p.tensor.shape(), state_dtype, p.tensor.device());
    s.v = Tensor::zeros(p.tensor.shape(), state_dtype, p.tensor.device());
    if (mixed) s.master = p.tensor.to(DType::f32);
    state_.emplace(p.name, std::move(s));
  }
}

bool AdamW::decays(const std::string& name) const {
  for (const std::string& pattern : no_decay_patterns_) {
    if (glob_match(pattern, name)) return false;
  }
  return true;
}

void AdamW::refresh_masters() {
  for (const NamedParameter& p : params_.entries()) {
    ParameterState& s = state_.at(p.name);
    if (s.master.defined()) s.master.copy_from(p.tensor.to(DType::f32));
  }
}

void AdamW::step(double lr) {
  std::vector<AdamWTensor> on_gpu;
  for (const NamedParameter& p : params_.entries()) {
    if (!p.tensor.requires_grad() || !p.tensor.has_grad()) continue;
    ParameterState& s = state_.at(p.name);
    AdamWOptions o = options_;
    o.lr = lr;
    if (!decays(p.name)) o.weight_decay = 0;
    s.step += 1;
    if (p.tensor.device() == Device::cuda) {
      on_gpu.push_back({p.tensor, p.tensor.grad(), s.m, s.v, s.master, s.step, o.weight_decay});
    } else {
      adamw_step(p.tensor, p.tensor.grad(), s.m, s.v, s.step, o);
    }
  }
  if (!on_gpu.empty()) adamw_multi_step(on_gpu, lr, options_);
}

}  // namespace graft
