#include "dist/gradient_reducer.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "ops/cuda/backend.h"
#include "ops/tensor_math.h"

namespace graft::dist {

namespace {

// Bucket packing within one device's memory (GPU copies are queued on the
// compute stream, so the all-reduce that follows sees them).
void copy_raw(void* dst, const void* src, size_t bytes, Device device) {
  if (device == Device::cuda) {
    cuda::copy_bytes(dst, src, bytes);
  } else {
    std::memcpy(dst, src, bytes);
  }
}
void zero_raw(void* dst, size_t bytes, Device device) {
  if (device == Device::cuda) {
    cuda::zero_bytes(dst, bytes);
  } else {
    std::memset(dst, 0, bytes);
  }
}

constexpr size_t kUnused = std::numeric_limits<size_t>::max();

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

GradientReducer::GradientReducer(Communicator& dp, const std::vector<Tensor>& params,
                                 ReducerOptions options)
    : dp_(dp), options_(options) {
  for (const Tensor& p : params) {
    GRAFT_CHECK(p.defined(), "GradientReducer: undefined parameter");
    if (!p.requires_grad()) continue;
    GRAFT_CHECK(p.dtype() == DType::f32 || p.dtype() == DType::f64,
                "GradientReducer reduces f32/f64 gradients, not " << p.describe());
    // A tensor registered twice (an alias) is reduced once.
    if (index_of_.count(p.impl())) continue;
    index_of_[p.impl()] = params_.size();
    params_.push_back(p);
  }
  // Reverse registration order: the heads and top layers finish first.
  size_t bytes = 0;
  for (size_t i = params_.size(); i-- > 0;) {
    const Tensor& p = params_[i];
    const bool fits = !buckets_.empty() && buckets_.back().buffer.dtype() == p.dtype() &&
                      bytes + p.bytes() <= options_.bucket_bytes;
    if (!fits) {
      buckets_.emplace_back();
      bytes = 0;
    }
    Bucket& b = buckets_.back();
    b.members.push_back(i);
    b.offsets.push_back(static_cast<int64_t>(bytes / dtype_size(p.dtype())));
    bytes += p.bytes();
    b.buffer =
        Tensor::empty({static_cast<int64_t>(bytes / dtype_size(p.dtype()))}, p.dtype(), p.device());
  }
  first_use_.assign(params_.size(), kUnused);
}

GradientReducer::~GradientReducer() {
  if (active_ && tape().observer() == this) tape().set_observer(nullptr);
}

void GradientReducer::begin() {
  GRAFT_CHECK(!active_, "GradientReducer::begin called twice without finish");
  GRAFT_CHECK(tape().observer() == nullptr, "the tape already has an observer");
  std::fill(first_use_.begin(), first_use_.end(), kUnused);
  for (Bucket& b : buckets_) {
    b.pending.reset();
    b.finished = false;
    b.absent.assign(b.members.size(), false);
  }
  next_ = 0;
  planned_ = false;
  stats_ = ReducerStats{};
  stats_.buckets = buckets_.size();
  for (const Bucket& b : buckets_)
    stats_.bytes += b.buffer.bytes();
  active_ = true;
  tape().set_observer(this);
}

void GradientReducer::on_input(const Tensor& t, size_t index) {
  auto it = index_of_.find(t.impl());
  if (it != index_of_.end()) first_use_[it->second] = std::min(first_use_[it->second], index);
}

void GradientReducer::plan() {
  for (Bucket& b : buckets_) {
    b.ready_at = kUnused;  // only unused members: final from the start
    for (size_t m : b.members)
      if (first_use_[m] != kUnused) b.ready_at = std::min(b.ready_at, first_use_[m]);
  }
  planned_ = true;
}

void GradientReducer::after_entry(size_t index) {
  if (!planned_) plan();
  // Every entry >= index has run: a bucket whose earliest reader is among
  // them is final. Start in bucket order so every rank issues the same
  // sequence of collectives.
  while (next_ < buckets_.size() &&
         (buckets_[next_].ready_at == kUnused || buckets_[next_].ready_at >= index)) {
    start(buckets_[next_++]);
    ++stats_.started_during_backward;
  }
  poll();
}

void GradientReducer::start(Bucket& b) {
  const size_t elem = dtype_size(b.buffer.dtype());
  char* dst = static_cast<char*>(b.buffer.raw_data());
  for (size_t k = 0; k < b.members.size(); ++k) {
    const Tensor& p = params_[b.members[k]];
    char* at = dst + static_cast<size_t>(b.offsets[k]) * elem;
    Tensor g = p.grad();
    b.absent[k] = !g.defined();
    if (g.defined()) {
      GRAFT_CHECK(g.dtype() == p.dtype() && g.numel() == p.numel(),
                  "gradient " << g.describe() << " does not match parameter " << p.describe());
      copy_raw(at, g.raw_data(), p.bytes(), p.device());
    } else {
      zero_raw(at, p.bytes(), p.device());
    }
  }
  b.started = Clock::now();
  b.pending = dp_.all_reduce_async(b.buffer, ReduceOp::average);
}

void GradientReducer::poll() {
  for (size_t i = 0; i < next_; ++i) {
    Bucket& b = buckets_[i];
    if (!b.finished && b.pending->ready()) {
      b.done = Clock::now();
      b.finished = true;
    }
  }
}

void GradientReducer::finish() {
  GRAFT_CHECK(active_, "GradientReducer::finish without begin");
  tape().set_observer(nullptr);
  active_ = false;
  const Clock::time_point t0 = Clock::now();
  if (!planned_) plan();
  while (next_ < buckets_.size())
    start(buckets_[next_++]);
  for (Bucket& b : buckets_) {
    if (b.finished) continue;
    b.pending->wait();
    b.done = Clock::now();
    b.finished = true;
  }
  stats_.exposed_seconds = seconds(Clock::now() - t0);

  // Union of the [started, done] intervals.
  std::vector<std::pair<Clock::time_point, Clock::time_point>> spans;
  for (const Bucket& b : buckets_)
    spans.emplace_back(b.started, b.done);
  std::sort(spans.begin(), spans.end());
  double total = 0;
  for (size_t i = 0; i < spans.size();) {
    auto [lo, hi] = spans[i];
    for (++i; i < spans.size() && spans[i].first <= hi; ++i)
      hi = std::max(hi, spans[i].second);
    total += seconds(hi - lo);
  }
  stats_.comm_seconds = total;

  for (Bucket& b : buckets_) {
    const size_t elem = dtype_size(b.buffer.dtype());
    const char* src = static_cast<const char*>(b.buffer.raw_data());
    for (size_t k = 0; k < b.members.size(); ++k) {
      const Tensor& p = params_[b.members[k]];
      const char* at = src + static_cast<size_t>(b.offsets[k]) * elem;
      if (b.absent[k]) {
        GRAFT_CHECK(!p.has_grad(), "the gradient of " << p.describe()
                                                      << " appeared after its bucket was reduced"
                                                         " (an op did not pass it to needs_grad)");
        Tensor avg = Tensor::empty(p.shape(), p.dtype(), p.device());
        copy_raw(avg.raw_data(), at, p.bytes(), p.device());
        // No rank had one: keep none, as without data parallelism.
        if (sum_of_squares(avg) > 0) p.set_grad(avg);
      } else {
        copy_raw(p.grad().raw_data(), at, p.bytes(), p.device());
      }
    }
  }
}

}  // namespace graft::dist
