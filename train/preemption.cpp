#include "train/preemption.h"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <atomic>

namespace graft {

namespace {

// Written from the signal handler: it must be lock-free to be safe there.
std::atomic<int> received{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void record_signal(int sig) {
  received.store(sig, std::memory_order_relaxed);
}

std::string describe_stop(int signal, int64_t step, int64_t total_steps,
                          const std::string& checkpoint) {
  return "stopped by " + signal_name(signal) + " after step " + std::to_string(step) + " of " +
         std::to_string(total_steps) + "; " +
         (checkpoint.empty() ? std::string("no checkpoint could be written")
                             : "checkpoint " + checkpoint);
}

}  // namespace

void install_preemption_handlers() {
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  // Interrupted reads, writes and waits carry on: the loop, not the signal,
  // decides when to stop.
  action.sa_flags = SA_RESTART;
  for (int sig : {SIGTERM, SIGUSR1}) {
    GRAFT_CHECK(sigaction(sig, &action, nullptr) == 0,
                "sigaction(" << signal_name(sig) << ") failed: " << std::strerror(errno));
  }
}

int preemption_signal() {
  return received.load(std::memory_order_relaxed);
}

void request_preemption(int sig) {
  received.store(sig, std::memory_order_relaxed);
}

void clear_preemption() {
  received.store(0, std::memory_order_relaxed);
}

std::string signal_name(int sig) {
  if (sig == SIGTERM) return "SIGTERM";
  if (sig == SIGUSR1) return "SIGUSR1";
  if (sig == SIGINT) return "SIGINT";
  return "signal " + std::to_string(sig);
}

Preempted::Preempted(int signal, int64_t step, int64_t total_steps, std::string checkpoint)
    : Error(describe_stop(signal, step, total_steps, checkpoint)),
      signal_(signal),
      step_(step),
      checkpoint_(std::move(checkpoint)) {}

}  // namespace graft
