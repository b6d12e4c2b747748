#include "dist/watchdog.h"

#include <cstdio>
#include <sstream>

namespace graft::dist {

Watchdog::Watchdog(double timeout_seconds, std::string who, Action action)
    : timeout_(timeout_seconds), who_(std::move(who)), action_(std::move(action)) {
  if (enabled()) thread_ = std::thread([this] { run(); });
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
    auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout_);
    armed_.emplace(id, Armed{std::move(what), deadline});
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
    if (earliest == armed_.end()) {
      wake_.wait(lock);
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
