#include "dist/watchdog.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "ops/check.h"

namespace graft::dist {

Watchdog::Watchdog(double timeout_seconds, std::string who, Action action)
    : timeout_(timeout_seconds), who_(std::move(who)), action_(std::move(action)) {
  GRAFT_CHECK(!std::isnan(timeout_seconds), "the collective timeout is NaN (" << who_ << ")");
  if (enabled()) thread_ = std::thread([this] { run(); });
}

bool Watchdog::enabled() const {
  return timeout_.count() > 0 && std::isfinite(timeout_.count());
}

Watchdog::Clock::time_point Watchdog::deadline_from(Clock::time_point now) const {
  // Clock::duration counts int64 nanoseconds: a timeout above ~9.2e9 s does
  // not fit, and casting it would wrap to a deadline in the past (the
  // watchdog then fired at once). Such a deadline is never reached anyway.
  const std::chrono::duration<double> left = Clock::time_point::max() - now;
  if (timeout_ >= left) return Clock::time_point::max();
  return now + std::chrono::duration_cast<Clock::duration>(timeout_);
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Watchdog::Guard Watchdog::watch(std::string what) {
  if (!enabled()) return Guard();
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    id = next_id_++;
    armed_.emplace(id, Armed{std::move(what), deadline_from(Clock::now())});
  }
  wake_.notify_all();
  return Guard(this, id);
}

void Watchdog::disarm(uint64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_.erase(id);
  // No notify: the thread waking at a stale deadline finds nothing due and
  // sleeps again, which is cheaper than waking it on every collective.
}

void Watchdog::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    auto earliest = armed_.end();
    for (auto it = armed_.begin(); it != armed_.end(); ++it) {
      if (earliest == armed_.end() || it->second.deadline < earliest->second.deadline)
        earliest = it;
    }
    if (earliest == armed_.end() || earliest->second.deadline == Clock::time_point::max()) {
      wake_.wait(lock);  // nothing armed, or nothing that can ever be due
      continue;
    }
    if (Clock::now() < earliest->second.deadline) {
      wake_.wait_until(lock, earliest->second.deadline);
      continue;
    }
    std::ostringstream message;
    message << "graft: " << who_ << ": " << earliest->second.what << " did not complete within "
            << timeout_.count()
            << " s (the collective timeout): another rank has probably died or hung. Aborting "
               "the job.";
    armed_.erase(earliest);
    lock.unlock();
    action_(message.str());
    lock.lock();
  }
}

Watchdog::Guard::Guard(Guard&& other) noexcept : dog_(other.dog_), id_(other.id_) {
  other.dog_ = nullptr;
}

Watchdog::Guard& Watchdog::Guard::operator=(Guard&& other) noexcept {
  if (this != &other) {
    if (dog_) dog_->disarm(id_);
    dog_ = other.dog_;
    id_ = other.id_;
    other.dog_ = nullptr;
  }
  return *this;
}

Watchdog::Guard::~Guard() {
  if (dog_) dog_->disarm(id_);
}

}  // namespace graft::dist
