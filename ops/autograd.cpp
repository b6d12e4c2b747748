#include "ops/autograd.h"

#include "ops/tensor_math.h"

namespace graft {

namespace {
// Per thread, like the tape: a thread that trains its own rows of a batch
// (train/trainer.h, row shards) records and switches recording on its own.
thread_local bool g_grad_enabled = true;
}  // namespace

void Tape::record(const char* op_name, std::function<void()> backward) {
  GRAFT_CHECK(!running_, "op '" << op_name << "' recorded during backward");
  entries_.push_back(Entry{op_name, std::move(backward)});
}

void Tape::backward(const Tensor& root, const Tensor& seed) {
  GRAFT_CHECK(root.defined(), "backward from an undefined tensor");
  GRAFT_CHECK(root.requires_grad(),
              "backward from " << root.describe() << ", which does not require a gradient");
  if (seed.defined()) {
    GRAFT_CHECK(seed.shape() == root.shape() && seed.dtype() == root.dtype() &&
                    seed.device() == root.device(),
                "backward seed " << seed.describe() << " does not match " << root.describe());
    root.set_grad(seed.clone());
  } else {
    GRAFT_CHECK(root.numel() == 1,
                "backward from non-scalar " << root.describe() << " needs a seed gradient");
    root.set_grad(Tensor::full(root.shape(), 1.0, root.dtype(), root.device()));
  }
  running_ = true;
  try {
    for (size_t i = entries_.size(); i-- > 0;) {
      entries_[i].backward();
      if (observer_) observer_->after_entry(i);
    }
  } catch (...) {
    running_ = false;
    entries_.clear();
    throw;
  }
  running_ = false;
  entries_.clear();
}

Tape& tape() {
  thread_local Tape instance;
  return instance;
}

bool grad_enabled() {
  return g_grad_enabled;
}

NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) {
  g_grad_enabled = false;
}
NoGradGuard::~NoGradGuard() {
  g_grad_enabled = previous_;
}

bool needs_grad(std::initializer_list<Tensor> inputs) {
  if (!g_grad_enabled) return false;
  bool any = false;
  Tape::Observer* observer = tape().observer();
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) {
      any = true;
      if (observer) observer->on_input(t, tape().size());
    }
  }
  return any;
}

GradSlot grad_slot(const Tensor& t) {
  Tensor g = t.grad();
  if (g.defined()) return {g, true};
  g = Tensor::empty(t.shape(), t.dtype(), t.device());
  t.set_grad(g);
  return {g, false};
}

void accumulate_grad(const Tensor& t, const Tensor& g) {
  Tensor existing = t.grad();
  if (!existing.defined()) {
    t.set_grad(g);
    return;
  }
  add_into(existing, g);
}

}  // namespace graft
