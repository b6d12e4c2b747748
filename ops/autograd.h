// The tape: ops append a backward closure as they run forward; backward()
// replays the tape in reverse. Execution order is a topological order, so the
// reverse needs no graph search.
//
// An op records an entry only when needs_grad() says one of its inputs wants a
// gradient: frozen or integer-only paths leave nothing on the tape and cost no
// backward FLOPs. Inside a backward closure an op computes a gradient only for
// inputs whose requires_grad() is true.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "ops/tensor.h"

namespace graft {

class Tape {
 public:
  void record(const char* op_name, std::function<void()> backward);

  // Seeds root's gradient (ones for a one-element root when seed is
  // undefined), runs every entry in reverse and clears the tape.
  void backward(const Tensor& root, const Tensor& seed = Tensor());

  void clear() { entries_.clear(); }
  size_t size() const { return entries_.size(); }

  // Optional observer (at most one; nullptr removes it), for data-parallel
  // gradient reduction that starts while backward still runs
  // (dist/gradient_reducer.h). Ops are unchanged: the hooks sit in
  // needs_grad() and backward(). Without an observer nothing changes.
  class Observer {
   public:
    virtual ~Observer() = default;
    // Forward: t (which requires a gradient) is an input of an op whose entry,
    // if it records one, gets index >= `index` (the tape's size now). Every
    // gradient write into t is made by an entry with index >= the smallest
    // such `index`, so t's gradient is final once that entry has run.
    virtual void on_input(const Tensor& t, size_t index) = 0;
    // Backward: entry `index` has just run (entries run in decreasing index).
    virtual void after_entry(size_t index) = 0;
  };
  void set_observer(Observer* observer) { observer_ = observer; }
  Observer* observer() const { return observer_; }

 private:
  struct Entry {
    const char* op_name;
    std::function<void()> backward;
  };
  std::vector<Entry> entries_;
  bool running_ = false;
  Observer* observer_ = nullptr;
};

// The calling thread's tape. A thread's ops record on its own tape, so threads
// that each run a forward and backward over their own activations (the
// Trainer's row shards) do not mix entries; kernels may use OpenMP inside.
Tape& tape();

// Gradient recording on/off for the calling thread (evaluation runs with it off).
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// True when recording is on and at least one defined input requires a gradient.
bool needs_grad(std::initializer_list<Tensor> inputs);

// Where a backward kernel writes t's gradient: the existing buffer with
// accumulate=true (GEMMs use beta=1), or a fresh uninitialised one with
// accumulate=false that is already installed as t's gradient.
struct GradSlot {
  Tensor grad;
  bool accumulate;
};
GradSlot grad_slot(const Tensor& t);

// Adds g into t's gradient; when t has none yet, g itself becomes it, so pass a
// tensor nobody else holds.
void accumulate_grad(const Tensor& t, const Tensor& g);

}  // namespace graft
