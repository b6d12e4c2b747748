// Progress display for long runs: on a terminal, one line rewritten in place;
// otherwise (logs, CI, Slurm output files) a plain line every `interval`
// seconds, so log files stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace graft {

struct ProgressSnapshot {
  int64_t step = 0;
  int64_t total_steps = 0;
  // Steps already done when this process started (a resumed run's
  // checkpoint step): the ETA is paced by the steps done since, the only
  // ones the elapsed time paid for.
  int64_t first_step = 0;
  double loss = 0;
  double tokens_per_second = 0;
  double mfu = -1;  // negative: unknown peak, printed as "n/a"
  double lr = 0;
};

class ProgressReporter {
 public:
  // stream: where to write (stderr by default); interval: seconds between
  // plain lines when the stream is not a terminal.
  explicit ProgressReporter(std::string label, std::FILE* stream = stderr,
                            double interval_seconds = 10.0);
  void update(const ProgressSnapshot& snapshot);
  void finish(const ProgressSnapshot& snapshot);  // always prints a final plain line
  // A line of its own (an evaluation, a skipped step) that does not get
  // mixed into the in-place line on a terminal.
  void message(const std::string& line);
  static std::string format_duration(double seconds);
  // Seconds left at the pace of this process: elapsed · (total − step) /
  // (step − first_step); negative (printed "?") before its first step.
  static double eta_seconds(const ProgressSnapshot& snapshot, double elapsed_seconds);

 private:
  std::string format(const ProgressSnapshot& s, double elapsed) const;
  std::string label_;
  std::FILE* stream_;
  bool terminal_;
  double interval_;
  std::chrono::steady_clock::time_point start_;
  double last_print_ = -1e9;
};

}  // namespace graft
