// Watchdog: turns a hang into a clear failure.
//
// A rank that dies or hangs leaves every other rank blocked in its next
// collective forever (mpirun ends the job when a rank exits non-zero, but not
// when one hangs). Each blocking collective arms the watchdog for its
// duration; a background thread fires the action (print, then MPI_Abort,
// which makes mpirun or srun kill every rank) when one stays armed past the
// timeout. Arming costs a mutex and a notify, nothing next to a collective.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace graft::dist {

class Watchdog {
 public:
  // message says who waited how long for what; the action normally does not
  // return (MPI_Abort). If it does, that collective does not fire again.
  using Action = std::function<void(const std::string& message)>;

  // who: this rank, e.g. "rank 1 of 4 (dp 0 of 2, tp 1 of 2)".
  // timeout_seconds 0 (or below) or infinity disables the watchdog (no
  // thread); a timeout too long for the clock (above ~292 years of
  // nanoseconds) never fires. NaN is a graft::Error (the CLI and the stage
  // config refuse negative and NaN timeouts as InputErrors before this).
  Watchdog(double timeout_seconds, std::string who, Action action);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Armed from construction until destruction.
  class Guard {
   public:
    Guard() = default;
    Guard(Guard&& other) noexcept;
    Guard& operator=(Guard&& other) noexcept;
    ~Guard();

   private:
    friend class Watchdog;
    Guard(Watchdog* dog, uint64_t id) : dog_(dog), id_(id) {}
    Watchdog* dog_ = nullptr;
    uint64_t id_ = 0;
  };

  // what: the collective, e.g. "all_reduce(sum) of f32[7] on the tp group (2 ranks)".
  [[nodiscard]] Guard watch(std::string what);
  double timeout_seconds() const { return timeout_.count(); }
  bool enabled() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Armed {
    std::string what;
    Clock::time_point deadline;
  };
  void disarm(uint64_t id);
  // now + timeout_, saturated at the clock's end (no overflow for huge timeouts).
  Clock::time_point deadline_from(Clock::time_point now) const;
  void run();

  std::chrono::duration<double> timeout_;
  std::string who_;
  Action action_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<uint64_t, Armed> armed_;
  uint64_t next_id_ = 1;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace graft::dist
