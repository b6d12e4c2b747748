// GradientReducer: data-parallel gradient averaging in buckets, overlapped
// with backward (PyTorch DDP's scheme, on graft's tape).
//
// Parameters are packed, in reverse registration order (roughly the order in
// which backward finishes them), into buckets of at most bucket_bytes (one
// dtype per bucket; a larger tensor gets a bucket of its own). While forward
// runs, the reducer observes the tape (Tape::Observer in ops/autograd.h) to
// learn, per parameter, the first tape entry that reads it; during backward,
// once that entry has run the parameter's gradient is final. As soon as every
// gradient of a bucket is final it is copied into the bucket's buffer and a
// non-blocking all_reduce (average over the dp group) starts; buckets start in
// bucket order on every rank (a ready bucket waits for earlier ones), so all
// ranks issue the same collectives in the same order. finish() starts what is
// left, waits for everything and writes the averages back into the gradients.
//
// Usage per optimizer step:
//   reducer.begin();                 // before the forward of the (last) micro-batch
//   loss = ...; tape().backward(loss);
//   reducer.finish();                // before clipping / the optimizer step
//   reducer.last_stats()             // communication time, how much was hidden
// Micro-batches before the last one accumulate locally without begin().
// A parameter with no gradient on any rank keeps none; where some rank has
// one, every rank gets the average (zeros counted). Frozen parameters
// (requires_grad false at construction) are not reduced: build a new reducer
// when the trainable set changes.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <unordered_map>
#include <vector>

#include "dist/communicator.h"
#include "ops/autograd.h"

namespace graft::dist {

struct ReducerOptions {
  size_t bucket_bytes = size_t{25} << 20;  // 25 MiB, DDP's default
};

// Timings of the last finish(), in seconds. Communication time is the union
// of the intervals from each bucket's start to its completion (completion is
// seen when the reducer polls, after each tape entry, or in finish()).
// Exposed is the time finish() spent waiting; the rest was hidden behind
// backward.
struct ReducerStats {
  size_t buckets = 0;
  size_t bytes = 0;
  size_t started_during_backward = 0;  // buckets started before finish()
  double comm_seconds = 0;
  double exposed_seconds = 0;
  double hidden_seconds() const {
    return comm_seconds > exposed_seconds ? comm_seconds - exposed_seconds : 0.0;
  }
};

class GradientReducer : public Tape::Observer {
 public:
  // params: the parameters to reduce (trainable ones are kept), in
  // registration order, the same on every rank of dp.
  GradientReducer(Communicator& dp, const std::vector<Tensor>& params, ReducerOptions options = {});
  ~GradientReducer() override;
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  void begin();   // installs the reducer as the tape's observer
  void finish();  // waits for every bucket, writes gradients back, uninstalls

  const ReducerStats& last_stats() const { return stats_; }
  size_t num_buckets() const { return buckets_.size(); }
  // Indices (into the kept parameters) of bucket b's members.
  const std::vector<size_t>& bucket_members(size_t b) const { return buckets_[b].members; }

  void on_input(const Tensor& t, size_t index) override;
  void after_entry(size_t index) override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Bucket {
    std::vector<size_t> members;
    std::vector<int64_t> offsets;
    Tensor buffer;
    size_t ready_at = 0;  // tape index after which every member is final
    std::unique_ptr<PendingCollective> pending;
    std::vector<bool> absent;  // member had no gradient when copied in
    Clock::time_point started, done;
    bool finished = false;
  };
  void start(Bucket& bucket);
  void poll();
  void plan();  // computes ready_at from the observed first uses

  Communicator& dp_;
  ReducerOptions options_;
  std::vector<Tensor> params_;
  std::unordered_map<const TensorImpl*, size_t> index_of_;
  std::vector<size_t> first_use_;
  std::vector<Bucket> buckets_;
  size_t next_ = 0;  // first bucket not started yet
  bool active_ = false, planned_ = false;
  ReducerStats stats_;
};

}  // namespace graft::dist
